package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Namespace Identification Descriptor header (CNS 0x03 list entry), NVMe Base 2.0 §5.17.2.3; libnvme {@code struct nvme_ns_id_desc}. */
public final class NamespaceDescriptor {
    public static final int NIDT_EUI64 = 0x01;
    public static final int NIDT_NGUID = 0x02;
    public static final int NIDT_UUID = 0x03;
    /** Mandatory in every list once the host set CC.CSS = CSI. */
    public static final int NIDT_CSI = 0x04;

    public static final int NIDL_EUI64 = 8;
    public static final int NIDL_NGUID = 16;
    public static final int NIDL_UUID = 16;
    public static final int NIDL_CSI = 1;

    /** The whole list is one 4096-byte Identify buffer. */
    public static final int LIST_SIZE = 4096;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("nidt"),
            U8.withName("nidl"),
            MemoryLayout.paddingLayout(2)
    ).withName("nvme_ns_id_desc");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_NIDT = LAYOUT.byteOffset(groupElement("nidt"));
    public static final long OFFSET_NIDL = LAYOUT.byteOffset(groupElement("nidl"));

    private NamespaceDescriptor() {}

    public static int nidt(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NIDT)); }
    public static void nidt(MemorySegment s, int v) { s.set(U8, OFFSET_NIDT, (byte) v); }

    // length of the NID that follows the 4-byte header; 0 ends the list
    public static int nidl(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NIDL)); }
    public static void nidl(MemorySegment s, int v) { s.set(U8, OFFSET_NIDL, (byte) v); }

    public static final long OFFSET_NID = SIZE;

    /** The only valid NIDL for a type, or -1 for an unknown type (Linux stops parsing on a mismatch). */
    public static int lengthOf(int nidt) {
        return switch (nidt) {
            case NIDT_EUI64 -> NIDL_EUI64;
            case NIDT_NGUID -> NIDL_NGUID;
            case NIDT_UUID -> NIDL_UUID;
            case NIDT_CSI -> NIDL_CSI;
            default -> -1;
        };
    }

    public static int nidtAt(MemorySegment list, long at) { return Byte.toUnsignedInt(list.get(U8, at + OFFSET_NIDT)); }
    public static int nidlAt(MemorySegment list, long at) { return Byte.toUnsignedInt(list.get(U8, at + OFFSET_NIDL)); }

    /**
     * Appends a descriptor at {@code at} of a list and returns where the next one starts.
     * {@code id} must be {@link #lengthOf}(nidt) bytes long.
     */
    public static long put(MemorySegment list, long at, int nidt, MemorySegment id) {
        int nidl = lengthOf(nidt);
        if (nidl < 0 || id.byteSize() != nidl) {
            throw new IllegalArgumentException("NIDT " + nidt + " needs " + nidl + " bytes, got " + id.byteSize());
        }
        list.set(U8, at + OFFSET_NIDT, (byte) nidt);
        list.set(U8, at + OFFSET_NIDL, (byte) nidl);
        list.set(U16, at + OFFSET_NIDL + 1, (short) 0);
        MemorySegment.copy(id, 0, list, at + OFFSET_NID, nidl);
        return at + OFFSET_NID + nidl;
    }
}
