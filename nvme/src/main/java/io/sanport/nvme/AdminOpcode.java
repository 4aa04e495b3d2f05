package io.sanport.nvme;

/** Admin command opcodes, NVMe Base 2.0 §5 Figure 28; Linux {@code enum nvme_admin_opcode}. */
public final class AdminOpcode {
    /** Queue creation/deletion is PCIe only: a fabrics target answers Invalid Opcode. */
    public static final int DELETE_SQ = 0x00;
    public static final int CREATE_SQ = 0x01;
    public static final int GET_LOG_PAGE = 0x02;
    public static final int DELETE_CQ = 0x04;
    public static final int CREATE_CQ = 0x05;
    public static final int IDENTIFY = 0x06;
    public static final int ABORT = 0x08;
    public static final int SET_FEATURES = 0x09;
    public static final int GET_FEATURES = 0x0A;
    public static final int ASYNC_EVENT = 0x0C;
    public static final int NS_MGMT = 0x0D;
    public static final int FW_COMMIT = 0x10;
    public static final int FW_DOWNLOAD = 0x11;
    public static final int NS_ATTACH = 0x15;
    public static final int KEEP_ALIVE = 0x18;
    public static final int DIRECTIVE_SEND = 0x19;
    public static final int DIRECTIVE_RECV = 0x1A;
    /** Fabrics commands share this opcode on every queue; FCTYPE (byte 4) tells them apart. */
    public static final int FABRICS = 0x7F;
    public static final int FORMAT_NVM = 0x80;
    public static final int SECURITY_SEND = 0x81;
    public static final int SECURITY_RECV = 0x82;
    public static final int SANITIZE = 0x84;

    private AdminOpcode() {}

    /** Opcode bits 1:0 give the data direction: 01 host to controller, 10 controller to host, 00 none. */
    public static int dataDirection(int opcode) { return opcode & 0x3; }
}
