package io.sanport.nvme.tcp;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** NVMe/TCP H2C/C2H Termination Request PDU header, NVMe/TCP 1.0 §3.6.2.9-10 (24 B); SPDK {@code struct spdk_nvme_tcp_term_req_hdr}. */
public final class TermReq {
    public static final int HLEN = 24;
    /** Up to 128 bytes of the offending PDU header follow, so PLEN is 24..152. */
    public static final int MAX_COPIED_HEADER = 128;
    public static final int MAX_PLEN = HLEN + MAX_COPIED_HEADER;

    /** FEI = byte offset of the bad field. */
    public static final int FES_INVALID_HEADER_FIELD = 0x01;
    public static final int FES_PDU_SEQUENCE_ERROR = 0x02;
    public static final int FES_HEADER_DIGEST_ERROR = 0x03;
    public static final int FES_DATA_OUT_OF_RANGE = 0x04;
    /** Also "R2T limit exceeded": the same value. */
    public static final int FES_DATA_LIMIT_EXCEEDED = 0x05;
    /** FEI = byte offset of the bad field. */
    public static final int FES_UNSUPPORTED_PARAMETER = 0x06;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            PduHeader.LAYOUT.withName("common"),
            U16.withName("fes"),
            U32.withName("fei"),
            MemoryLayout.paddingLayout(10)
    ).withName("spdk_nvme_tcp_term_req_hdr");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_COMMON = LAYOUT.byteOffset(groupElement("common"));
    public static final long OFFSET_FES = LAYOUT.byteOffset(groupElement("fes"));
    public static final long OFFSET_FEI = LAYOUT.byteOffset(groupElement("fei"));

    private TermReq() {}

    public static int fes(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_FES)); }
    public static void fes(MemorySegment s, int v) { s.set(U16, OFFSET_FES, (short) v); }

    // at byte 10 per the spec and SPDK; the Linux 6.1 struct wrongly aligns it to 12
    public static int fei(MemorySegment s) { return s.get(U32, OFFSET_FEI); }
    public static void fei(MemorySegment s, int v) { s.set(U32, OFFSET_FEI, v); }

    /**
     * Builds a termination request in {@code s}: header, FES/FEI, then as much of {@code offending} as fits in
     * 128 bytes. ICReq, ICResp and TermReq never carry digests. Returns PLEN.
     */
    public static int build(MemorySegment s, int type, int fes, int fei, MemorySegment offending) {
        int copied = (int) Math.min(offending.byteSize(), MAX_COPIED_HEADER);
        int plen = HLEN + copied;
        s.asSlice(0, HLEN).fill((byte) 0);
        PduHeader.set(s, type, 0, HLEN, 0, plen);
        fes(s, fes);
        fei(s, fei);
        MemorySegment.copy(offending, 0, s, HLEN, copied);
        return plen;
    }
}
