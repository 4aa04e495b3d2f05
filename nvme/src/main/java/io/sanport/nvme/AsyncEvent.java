package io.sanport.nvme;

/** Asynchronous Event Request completion DW0, NVMe Base 2.0 §5.2: type 2:0, info 15:8, log page 23:16. */
public final class AsyncEvent {
    public static final int TYPE_ERROR = 0;
    public static final int TYPE_SMART = 1;
    public static final int TYPE_NOTICE = 2;
    public static final int TYPE_IO_COMMAND_SET = 6;
    public static final int TYPE_VENDOR = 7;

    public static final int INFO_NS_ATTRIBUTE_CHANGED = 0x00;
    public static final int INFO_FW_ACTIVATION_STARTING = 0x01;
    public static final int INFO_ANA_CHANGE = 0x03;
    public static final int INFO_DISCOVERY_LOG_CHANGED = 0xF0;

    /** Linux reads log 0x04 and rescans: 0x00040002. */
    public static final int NS_CHANGED = dw0(TYPE_NOTICE, INFO_NS_ATTRIBUTE_CHANGED, LogPageId.CHANGED_NS);
    /** Linux re-reads the ANA log (0x0C) and updates its paths: 0x000C0302. */
    public static final int ANA_CHANGED = dw0(TYPE_NOTICE, INFO_ANA_CHANGE, LogPageId.ANA);
    /** nvme-cli's autoconnect udev rule matches NVME_AEN=0x70f002. */
    public static final int DISCOVERY_CHANGED = dw0(TYPE_NOTICE, INFO_DISCOVERY_LOG_CHANGED, LogPageId.DISCOVERY);

    private AsyncEvent() {}

    public static int dw0(int type, int info, int logPageId) {
        return (logPageId & 0xFF) << 16 | (info & 0xFF) << 8 | type & 0x7;
    }
}
