package io.sanport.nvme;

/** Log page identifiers for Get Log Page (CDW10 bits 7:0), NVMe Base 2.0 §5.16; libnvme {@code enum nvme_cmd_get_log_lid}. */
public final class LogPageId {
    public static final int SUPPORTED_LOG_PAGES = 0x00;
    /** 64-byte {@link ErrorLogEntry} records. */
    public static final int ERROR = 0x01;
    /** 512-byte {@link SmartLog}; Linux hwmon reads it at connect with NSID FFFFFFFFh. */
    public static final int SMART = 0x02;
    public static final int FW_SLOT = 0x03;
    /** {@link ChangedNamespaceList}, read after a namespace-attribute AEN. */
    public static final int CHANGED_NS = 0x04;
    /** Read by Linux only if Identify Controller LPA bit 1 is set. */
    public static final int CMD_EFFECTS = 0x05;
    public static final int DEVICE_SELF_TEST = 0x06;
    /** Read by Linux (and fatal if it fails) when CMIC bit 3 is set. */
    public static final int ANA = 0x0C;
    /** Discovery log, only on discovery controllers. */
    public static final int DISCOVERY = 0x70;
    public static final int RESERVATION = 0x80;
    public static final int SANITIZE = 0x81;

    private LogPageId() {}
}
