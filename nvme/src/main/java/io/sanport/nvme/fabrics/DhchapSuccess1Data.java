package io.sanport.nvme.fabrics;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * DH-HMAC-CHAP_Success1 (controller to host, Authentication Receive), NVMe 2.0 §8.13.5.5; Linux {@code struct
 * nvmf_auth_dhchap_success1_data}: a 16-byte header, then HL bytes of response R2 when RVALID (bidirectional).
 */
public final class DhchapSuccess1Data {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("auth_type"),
            U8.withName("auth_id"),
            MemoryLayout.paddingLayout(2),
            U16.withName("t_id"),
            U8.withName("hl"),
            MemoryLayout.paddingLayout(1),
            U8.withName("rvalid"),
            MemoryLayout.paddingLayout(7)
    ).withName("nvmf_auth_dhchap_success1_data");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_HL = LAYOUT.byteOffset(groupElement("hl"));
    public static final long OFFSET_RVALID = LAYOUT.byteOffset(groupElement("rvalid"));
    public static final long OFFSET_RVAL = SIZE;

    private DhchapSuccess1Data() {}

    public static int hl(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_HL)); }
    public static void hl(MemorySegment s, int v) { s.set(U8, OFFSET_HL, (byte) v); }

    public static boolean rvalid(MemorySegment s) { return (s.get(U8, OFFSET_RVALID) & 1) != 0; }
    public static void rvalid(MemorySegment s, boolean v) { s.set(U8, OFFSET_RVALID, (byte) (v ? 1 : 0)); }
}
