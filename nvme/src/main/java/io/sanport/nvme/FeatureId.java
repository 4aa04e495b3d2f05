package io.sanport.nvme;

/** Feature identifiers for Set/Get Features (CDW10 bits 7:0), NVMe Base 2.0 §5.27.1; libnvme {@code enum nvme_features_id}. */
public final class FeatureId {
    public static final int ARBITRATION = 0x01;
    public static final int POWER_MGMT = 0x02;
    public static final int TEMP_THRESH = 0x04;
    public static final int ERR_RECOVERY = 0x05;
    public static final int VOLATILE_WC = 0x06;
    /** CDW11 and DW0: NSQ in 15:0, NCQ in 31:16, both 0-based; 0xFFFF in either is Invalid Field. */
    public static final int NUM_QUEUES = 0x07;
    public static final int IRQ_COALESCE = 0x08;
    public static final int IRQ_CONFIG = 0x09;
    public static final int WRITE_ATOMIC = 0x0A;
    /** CDW11 uses the OAES bit positions. */
    public static final int ASYNC_EVENT = 0x0B;
    public static final int AUTO_PST = 0x0C;
    public static final int HOST_MEM_BUF = 0x0D;
    public static final int TIMESTAMP = 0x0E;
    /** CDW11 = KATO in ms (fabrics hosts pass KATO in Connect instead). */
    public static final int KATO = 0x0F;
    public static final int HOST_BEHAVIOR = 0x16;
    public static final int HOST_ID = 0x81;
    public static final int RESV_MASK = 0x82;
    public static final int RESV_PERSIST = 0x83;
    public static final int WRITE_PROTECT = 0x84;

    public static final int SEL_CURRENT = 0;
    public static final int SEL_DEFAULT = 1;
    public static final int SEL_SAVED = 2;
    public static final int SEL_SUPPORTED = 3;

    private FeatureId() {}

    /** Number of Queues DW0/CDW11 from 0-based counts. */
    public static int numQueues(int nsq0, int ncq0) { return (ncq0 & 0xFFFF) << 16 | nsq0 & 0xFFFF; }
}
