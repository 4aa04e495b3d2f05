package io.sanport.nvme.fabrics;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * AUTH_Failure1 (controller to host, AUTH-TYPE common) and AUTH_Failure2 (host to controller, AUTH-TYPE
 * DH-HMAC-CHAP), NVMe 2.0 §8.13.4.3; Linux {@code struct nvmf_auth_dhchap_failure_data}: a reason code and its
 * explanation ({@link Dhchap#explain}).
 */
public final class DhchapFailureData {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("auth_type"),
            U8.withName("auth_id"),
            MemoryLayout.paddingLayout(2),
            U16.withName("t_id"),
            U8.withName("rescode"),
            U8.withName("rescode_exp")
    ).withName("nvmf_auth_dhchap_failure_data");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_RESCODE = LAYOUT.byteOffset(groupElement("rescode"));
    public static final long OFFSET_RESCODE_EXP = LAYOUT.byteOffset(groupElement("rescode_exp"));

    private DhchapFailureData() {}

    public static int rescode(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_RESCODE)); }
    public static int rescodeExp(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_RESCODE_EXP)); }

    /** Writes a whole failure message: Failure1 is a common message, Failure2 a DH-HMAC-CHAP one. */
    public static void write(MemorySegment s, int authId, int tid, int explanation) {
        AuthMessage.header(s, authId == Dhchap.MSG_FAILURE1 ? Dhchap.TYPE_COMMON : Dhchap.TYPE_DHCHAP, authId, tid);
        s.set(U8, OFFSET_RESCODE, (byte) Dhchap.REASON_FAILED);
        s.set(U8, OFFSET_RESCODE_EXP, (byte) explanation);
    }
}
