package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * SGL descriptor, NVMe Base 2.0 §4.1.2 (16 B); Linux {@code struct nvme_sgl_desc} / {@code nvme_keyed_sgl_desc},
 * SPDK {@code struct spdk_nvme_sgl_descriptor}.
 * Byte 15 is the identifier: type in bits 7:4, subtype in bits 3:0. The accessors take the offset of the
 * descriptor in {@code s}, so SGL1 is read in place at {@link SubmissionQueueEntry#OFFSET_DPTR}.
 */
public final class SglDescriptor {

    public static final int TYPE_DATA_BLOCK = 0x0;
    public static final int TYPE_BIT_BUCKET = 0x1;
    public static final int TYPE_SEGMENT = 0x2;
    public static final int TYPE_LAST_SEGMENT = 0x3;
    /** RDMA: 24-bit length and a 32-bit remote key. */
    public static final int TYPE_KEYED_DATA_BLOCK = 0x4;
    /** NVMe/TCP: data moves by R2T/H2CData or C2HData; Address is reserved. */
    public static final int TYPE_TRANSPORT_DATA_BLOCK = 0x5;

    public static final int SUBTYPE_ADDRESS = 0x0;
    /** Address is an offset into the in-capsule data (which starts ICDOFF x 16 bytes after the SQE). */
    public static final int SUBTYPE_OFFSET = 0x1;
    public static final int SUBTYPE_TRANSPORT = 0xA;
    /** Keyed: the host asks for remote invalidation of Key (respond with SEND_WITH_INVALIDATE). */
    public static final int SUBTYPE_INVALIDATE_KEY = 0xF;

    /** In-capsule data (TCP, and RDMA writes within the inline limit). */
    public static final int ID_DATA_OFFSET = 0x01;
    /** NVMe/TCP transport data block (also with length 0 for "no data"). */
    public static final int ID_TCP_TRANSPORT = 0x5A;
    /** RDMA keyed, no invalidation ("no data" is address 0, length 0, key 0). */
    public static final int ID_KEYED = 0x40;
    /** RDMA keyed with invalidate: the Linux host's normal fast-registration data path. */
    public static final int ID_KEYED_INVALIDATE = 0x4F;

    /** Keyed lengths are 24 bits: 16 MiB - 1 per descriptor. */
    public static final int KEYED_MAX_LENGTH = 0xFF_FFFF;

    /** Data Block / Segment / Transport Data Block form: 32-bit length. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("addr"),
            U32.withName("length"),
            MemoryLayout.paddingLayout(3),
            U8.withName("type")
    ).withName("nvme_sgl_desc");

    /** Keyed Data Block form: 24-bit length, then the key. */
    public static final StructLayout KEYED_LAYOUT = MemoryLayout.structLayout(
            U64.withName("addr"),
            MemoryLayout.sequenceLayout(3, U8).withName("length"),
            U32.withName("key"),
            U8.withName("type")
    ).withName("nvme_keyed_sgl_desc");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_ADDRESS = LAYOUT.byteOffset(groupElement("addr"));
    public static final long OFFSET_LENGTH = LAYOUT.byteOffset(groupElement("length"));
    public static final long OFFSET_KEY = KEYED_LAYOUT.byteOffset(groupElement("key"));
    public static final long OFFSET_IDENTIFIER = LAYOUT.byteOffset(groupElement("type"));

    private SglDescriptor() {}

    public static int identifier(int type, int subtype) { return (type & 0xF) << 4 | subtype & 0xF; }
    public static int type(int identifier) { return identifier >>> 4 & 0xF; }
    public static int subtype(int identifier) { return identifier & 0xF; }

    public static long address(MemorySegment s, long at) { return s.get(U64, at + OFFSET_ADDRESS); }
    public static void address(MemorySegment s, long at, long v) { s.set(U64, at + OFFSET_ADDRESS, v); }

    /** Length of a non-keyed descriptor. */
    public static long length(MemorySegment s, long at) { return Integer.toUnsignedLong(s.get(U32, at + OFFSET_LENGTH)); }
    public static void length(MemorySegment s, long at, long v) { s.set(U32, at + OFFSET_LENGTH, (int) v); }

    public static int keyedLength(MemorySegment s, long at) {
        return Short.toUnsignedInt(s.get(U16, at + OFFSET_LENGTH)) | Byte.toUnsignedInt(s.get(U8, at + OFFSET_LENGTH + 2)) << 16;
    }

    public static void keyedLength(MemorySegment s, long at, int v) {
        s.set(U16, at + OFFSET_LENGTH, (short) v);
        s.set(U8, at + OFFSET_LENGTH + 2, (byte) (v >>> 16));
    }

    public static int key(MemorySegment s, long at) { return s.get(U32, at + OFFSET_KEY); }
    public static void key(MemorySegment s, long at, int v) { s.set(U32, at + OFFSET_KEY, v); }

    public static int identifier(MemorySegment s, long at) { return Byte.toUnsignedInt(s.get(U8, at + OFFSET_IDENTIFIER)); }
    public static void identifier(MemorySegment s, long at, int v) { s.set(U8, at + OFFSET_IDENTIFIER, (byte) v); }

    /** Fills a Data Block / Transport Data Block descriptor (bytes 12-14 reserved, zeroed). */
    public static void set(MemorySegment s, long at, long address, long length, int identifier) {
        s.set(U64, at + OFFSET_ADDRESS, address);
        s.set(U32, at + OFFSET_LENGTH, (int) length);
        s.set(U16, at + OFFSET_LENGTH + 4, (short) 0);
        s.set(U8, at + OFFSET_LENGTH + 6, (byte) 0);
        s.set(U8, at + OFFSET_IDENTIFIER, (byte) identifier);
    }

    /** Fills a Keyed Data Block descriptor. */
    public static void setKeyed(MemorySegment s, long at, long address, int length, int key, int identifier) {
        s.set(U64, at + OFFSET_ADDRESS, address);
        keyedLength(s, at, length);
        s.set(U32, at + OFFSET_KEY, key);
        s.set(U8, at + OFFSET_IDENTIFIER, (byte) identifier);
    }

    /**
     * The check of an in-capsule Data Block (Offset) descriptor as the RDMA and loop transports take it: the host's
     * u64 Address {@code off} and u32 Length {@code len} must lie within {@code maxInCapsule} (else SGL Offset
     * Invalid) and within the {@code received} bytes that followed the SQE (else SGL Data Invalid). Compared
     * without adding them, so an Address near 2^64 cannot wrap. Returns {@link Status#SUCCESS} or that code.
     */
    public static int checkInCapsule(long off, long len, int received, int maxInCapsule) {
        if (Long.compareUnsigned(off, maxInCapsule) > 0 || len > maxInCapsule - off) {
            return Status.SGL_INVALID_OFFSET;
        }
        if (off > received || len > received - off) {
            return Status.SGL_INVALID_DATA; // the capsule is shorter than its descriptor says
        }
        return Status.SUCCESS;
    }
}
