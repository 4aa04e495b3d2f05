package io.sanport.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Test helpers: segments deliberately misaligned (wire buffers are), and raw byte checks for endianness. */
public final class WireAssertions {
    private WireAssertions() {}

    /** A zeroed segment of {@code size} bytes starting at an odd address. */
    public static MemorySegment misaligned(long size) {
        return Arena.ofAuto().allocate(size + 8, 8).asSlice(1, size);
    }

    /** Asserts the bytes at {@code offset}, written as hex in wire order, e.g. "3412" for a LE u16 0x1234. */
    public static void assertBytes(String hex, MemorySegment s, long offset) {
        byte[] expected = HexFormat.of().parseHex(hex);
        byte[] actual = s.asSlice(offset, expected.length).toArray(ValueLayout.JAVA_BYTE);
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(actual), "bytes at offset " + offset);
    }
}
