package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The value layouts every wire structure is built from, and the control-path string and UUID helpers.
 * NVMe and NVMe-oF data is little-endian and capsules land at any byte offset, hence unaligned layouts.
 */
public final class Wire {
    public static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** UUIDs (HOSTID, NIDT UUID) are raw RFC 4122 bytes, i.e. big-endian halves. */
    public static final ValueLayout.OfLong U64_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Wire() {}

    /** An ASCII field of {@code length} bytes, with trailing NULs and spaces removed (both paddings occur in the wild). */
    public static String getString(MemorySegment s, long offset, int length) {
        int end = 0;
        while (end < length && s.get(U8, offset + end) != 0) {
            end++;
        }
        while (end > 0 && s.get(U8, offset + end - 1) == ' ') {
            end--;
        }
        byte[] bytes = new byte[end];
        MemorySegment.copy(s, U8, offset, bytes, 0, end);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /**
     * Writes {@code value} into an ASCII field of {@code length} bytes and fills the rest with {@code pad}
     * (NVMe strings such as SN/MN/FR are space padded, NQNs are NUL padded).
     *
     * @throws IllegalArgumentException if the value does not fit (an NQN field must keep a terminating NUL)
     */
    public static void setString(MemorySegment s, long offset, int length, String value, byte pad) {
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        int max = pad == 0 ? length - 1 : length;
        if (bytes.length > max) {
            throw new IllegalArgumentException("\"" + value + "\" is " + bytes.length + " bytes, the field holds " + max);
        }
        MemorySegment.copy(bytes, 0, s, U8, offset, bytes.length);
        s.asSlice(offset + bytes.length, length - bytes.length).fill(pad);
    }

    public static UUID getUuid(MemorySegment s, long offset) {
        return new UUID(s.get(U64_BE, offset), s.get(U64_BE, offset + 8));
    }

    public static void setUuid(MemorySegment s, long offset, UUID uuid) {
        s.set(U64_BE, offset, uuid.getMostSignificantBits());
        s.set(U64_BE, offset + 8, uuid.getLeastSignificantBits());
    }
}
