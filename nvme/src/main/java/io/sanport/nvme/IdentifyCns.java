package io.sanport.nvme;

/** Identify CNS values (CDW10 bits 7:0) and command set identifiers, NVMe Base 2.0 §5.17.1; libnvme {@code enum nvme_identify_cns}. */
public final class IdentifyCns {
    public static final int NS = 0x00;
    public static final int CTRL = 0x01;
    /** Active NSIDs greater than the command's NSID, ascending, 1024 x u32, zero terminated. */
    public static final int NS_ACTIVE_LIST = 0x02;
    /** {@link NamespaceDescriptor} list. */
    public static final int NS_DESC_LIST = 0x03;
    public static final int CSI_NS = 0x05;
    /** Sent by Linux at every scan; Invalid Field is an accepted answer. */
    public static final int CSI_CTRL = 0x06;
    public static final int CSI_NS_ACTIVE_LIST = 0x07;
    public static final int CSI_INDEPENDENT_NS = 0x08;

    public static final int CSI_NVM = 0x00;
    public static final int CSI_KV = 0x01;
    public static final int CSI_ZNS = 0x02;

    /** Every Identify transfers exactly this many bytes (nvmet rejects other lengths with 0x0F + DNR). */
    public static final int DATA_SIZE = 4096;

    private IdentifyCns() {}
}
