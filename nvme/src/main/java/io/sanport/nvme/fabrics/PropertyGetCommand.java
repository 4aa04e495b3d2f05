package io.sanport.nvme.fabrics;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Fabrics Property Get command (FCTYPE 0x04), NVMe-oF 1.1 §3.5 (64 B); Linux {@code struct nvmf_property_get_command}. */
public final class PropertyGetCommand {
    public static final int ATTRIB_SIZE_MASK = 0x7;
    public static final int ATTRIB_SIZE_4 = 0;
    public static final int ATTRIB_SIZE_8 = 1;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("opcode"),
            MemoryLayout.paddingLayout(1),
            U16.withName("command_id"),
            U8.withName("fctype"),
            MemoryLayout.paddingLayout(35),
            U8.withName("attrib"),
            MemoryLayout.paddingLayout(3),
            U32.withName("offset"),
            MemoryLayout.paddingLayout(16)
    ).withName("nvmf_property_get_command");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_OPCODE = LAYOUT.byteOffset(groupElement("opcode"));
    public static final long OFFSET_CID = LAYOUT.byteOffset(groupElement("command_id"));
    public static final long OFFSET_FCTYPE = LAYOUT.byteOffset(groupElement("fctype"));
    public static final long OFFSET_ATTRIB = LAYOUT.byteOffset(groupElement("attrib"));
    public static final long OFFSET_OFST = LAYOUT.byteOffset(groupElement("offset"));

    private PropertyGetCommand() {}

    public static int opcode(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_OPCODE)); }
    public static void opcode(MemorySegment s, int v) { s.set(U8, OFFSET_OPCODE, (byte) v); }

    public static int cid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CID)); }
    public static void cid(MemorySegment s, int v) { s.set(U16, OFFSET_CID, (short) v); }

    public static int fctype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FCTYPE)); }
    public static void fctype(MemorySegment s, int v) { s.set(U8, OFFSET_FCTYPE, (byte) v); }

    // bits 2:0 size: 0 = 4 bytes, 1 = 8 bytes; the value returns in CQE DW0 (and DW1)
    public static int attrib(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_ATTRIB)); }
    public static void attrib(MemorySegment s, int v) { s.set(U8, OFFSET_ATTRIB, (byte) v); }

    public static int ofst(MemorySegment s) { return s.get(U32, OFFSET_OFST); }
    public static void ofst(MemorySegment s, int v) { s.set(U32, OFFSET_OFST, v); }

    public static int sizeBytes(int attrib) { return (attrib & ATTRIB_SIZE_MASK) == ATTRIB_SIZE_8 ? 8 : 4; }
}
