package io.sanport.nvme.fabrics;

import io.sanport.nvme.SglDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Common Fabrics command capsule (opcode 0x7F), NVMe-oF 1.1 §3.3 (64 B); Linux {@code struct nvmf_common_command}. */
public final class FabricsCommand {
    public static final int OPCODE = 0x7F;

    public static final int FCTYPE_PROPERTY_SET = 0x00;
    public static final int FCTYPE_CONNECT = 0x01;
    public static final int FCTYPE_PROPERTY_GET = 0x04;
    public static final int FCTYPE_AUTH_SEND = 0x05;
    public static final int FCTYPE_AUTH_RECEIVE = 0x06;
    /** NVMe 2.0; Linux 6.1 neither sends nor implements it (nvmet: Invalid Opcode + DNR). */
    public static final int FCTYPE_DISCONNECT = 0x08;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("opcode"),
            MemoryLayout.paddingLayout(1),
            U16.withName("command_id"),
            U8.withName("fctype"),
            MemoryLayout.paddingLayout(19),
            SglDescriptor.LAYOUT.withName("dptr"),
            MemoryLayout.paddingLayout(24)
    ).withName("nvmf_common_command");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_OPCODE = LAYOUT.byteOffset(groupElement("opcode"));
    public static final long OFFSET_CID = LAYOUT.byteOffset(groupElement("command_id"));
    public static final long OFFSET_FCTYPE = LAYOUT.byteOffset(groupElement("fctype"));
    public static final long OFFSET_DPTR = LAYOUT.byteOffset(groupElement("dptr"));

    private FabricsCommand() {}

    public static int opcode(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_OPCODE)); }
    public static void opcode(MemorySegment s, int v) { s.set(U8, OFFSET_OPCODE, (byte) v); }

    public static int cid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CID)); }
    public static void cid(MemorySegment s, int v) { s.set(U16, OFFSET_CID, (short) v); }

    public static int fctype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FCTYPE)); }
    public static void fctype(MemorySegment s, int v) { s.set(U8, OFFSET_FCTYPE, (byte) v); }

    /** Linux takes the data direction from FCTYPE bit 0: odd means host to controller. */
    public static boolean isHostToController(int fctype) { return (fctype & 1) != 0; }
}
