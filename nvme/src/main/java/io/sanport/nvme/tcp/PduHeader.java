package io.sanport.nvme.tcp;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** NVMe/TCP common PDU header, NVMe/TCP 1.0 §3.6.1 (8 B); SPDK {@code struct spdk_nvme_tcp_common_pdu_hdr}, Linux {@code struct nvme_tcp_hdr}. */
public final class PduHeader {
    public static final int TYPE_IC_REQ = 0x00;
    public static final int TYPE_IC_RESP = 0x01;
    public static final int TYPE_H2C_TERM_REQ = 0x02;
    public static final int TYPE_C2H_TERM_REQ = 0x03;
    public static final int TYPE_CAPSULE_CMD = 0x04;
    public static final int TYPE_CAPSULE_RESP = 0x05;
    public static final int TYPE_H2C_DATA = 0x06;
    public static final int TYPE_C2H_DATA = 0x07;
    public static final int TYPE_R2T = 0x09;

    public static final int FLAG_HDGSTF = 1 << 0;
    public static final int FLAG_DDGSTF = 1 << 1;
    /** Last data PDU of an R2T (H2C) or of the command (C2H). */
    public static final int FLAG_LAST_PDU = 1 << 2;
    /** C2HData only, with LAST_PDU: the command succeeded and no CapsuleResp follows. */
    public static final int FLAG_SUCCESS = 1 << 3;

    /** Header and data digests are CRC-32C, sent as 4 little-endian bytes. */
    public static final int DIGEST_LENGTH = 4;

    public static final int PORT_IO = 4420;
    public static final int PORT_DISCOVERY = 8009;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("pdu_type"),
            U8.withName("flags"),
            U8.withName("hlen"),
            U8.withName("pdo"),
            U32.withName("plen")
    ).withName("spdk_nvme_tcp_common_pdu_hdr");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_TYPE = LAYOUT.byteOffset(groupElement("pdu_type"));
    public static final long OFFSET_FLAGS = LAYOUT.byteOffset(groupElement("flags"));
    public static final long OFFSET_HLEN = LAYOUT.byteOffset(groupElement("hlen"));
    public static final long OFFSET_PDO = LAYOUT.byteOffset(groupElement("pdo"));
    public static final long OFFSET_PLEN = LAYOUT.byteOffset(groupElement("plen"));

    private PduHeader() {}

    public static int type(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_TYPE)); }
    public static void type(MemorySegment s, int v) { s.set(U8, OFFSET_TYPE, (byte) v); }

    public static int flags(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FLAGS)); }
    public static void flags(MemorySegment s, int v) { s.set(U8, OFFSET_FLAGS, (byte) v); }

    // common + PDU-specific header, without the header digest
    public static int hlen(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_HLEN)); }
    public static void hlen(MemorySegment s, int v) { s.set(U8, OFFSET_HLEN, (byte) v); }

    // offset of the data from the start of the PDU, 0 without data
    public static int pdo(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_PDO)); }
    public static void pdo(MemorySegment s, int v) { s.set(U8, OFFSET_PDO, (byte) v); }

    // whole PDU: header, digests, padding and data
    public static long plen(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_PLEN)); }
    public static void plen(MemorySegment s, long v) { s.set(U32, OFFSET_PLEN, (int) v); }

    /** Fills the common header. */
    public static void set(MemorySegment s, int type, int flags, int hlen, int pdo, long plen) {
        s.set(U8, OFFSET_TYPE, (byte) type);
        s.set(U8, OFFSET_FLAGS, (byte) flags);
        s.set(U8, OFFSET_HLEN, (byte) hlen);
        s.set(U8, OFFSET_PDO, (byte) pdo);
        s.set(U32, OFFSET_PLEN, (int) plen);
    }

    /** The HLEN the spec fixes for a PDU type, or -1 for an unknown type. */
    public static int expectedHlen(int type) {
        return switch (type) {
            case TYPE_IC_REQ, TYPE_IC_RESP -> ICReq.HLEN;
            case TYPE_H2C_TERM_REQ, TYPE_C2H_TERM_REQ -> TermReq.HLEN;
            case TYPE_CAPSULE_CMD -> CapsuleCommand.HLEN;
            case TYPE_CAPSULE_RESP -> CapsuleResponse.HLEN;
            case TYPE_H2C_DATA -> H2CData.HLEN;
            case TYPE_C2H_DATA -> C2HData.HLEN;
            case TYPE_R2T -> R2T.HLEN;
            default -> -1;
        };
    }

    /** The flags a PDU type may carry (NVMe/TCP 1.0 §3.6.2). */
    public static int allowedFlags(int type) {
        return switch (type) {
            case TYPE_CAPSULE_CMD -> FLAG_HDGSTF | FLAG_DDGSTF;
            case TYPE_CAPSULE_RESP, TYPE_R2T -> FLAG_HDGSTF;
            case TYPE_H2C_DATA -> FLAG_HDGSTF | FLAG_DDGSTF | FLAG_LAST_PDU;
            case TYPE_C2H_DATA -> FLAG_HDGSTF | FLAG_DDGSTF | FLAG_LAST_PDU | FLAG_SUCCESS;
            default -> 0;
        };
    }
}
