package io.sanport.nvme;

/** NVM command set I/O opcodes, NVMe NVM Command Set 1.0 §3; Linux {@code enum nvme_opcode}. */
public final class IoOpcode {
    /** Sent only when Identify Controller VWC bit 0 is set. */
    public static final int FLUSH = 0x00;
    public static final int WRITE = 0x01;
    public static final int READ = 0x02;
    public static final int WRITE_UNCORRECTABLE = 0x04;
    public static final int COMPARE = 0x05;
    /** Sent only when ONCS bit 3 is set. */
    public static final int WRITE_ZEROES = 0x08;
    /** Sent only when ONCS bit 2 is set; Linux uses it for discard (AD attribute). */
    public static final int DSM = 0x09;
    public static final int VERIFY = 0x0C;
    public static final int RESV_REGISTER = 0x0D;
    public static final int RESV_REPORT = 0x0E;
    public static final int RESV_ACQUIRE = 0x11;
    public static final int RESV_RELEASE = 0x15;
    public static final int COPY = 0x19;

    private IoOpcode() {}
}
