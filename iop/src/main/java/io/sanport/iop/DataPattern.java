package io.sanport.iop;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * A verifiable data pattern: every 8-byte word carries a mix of its byte offset on the device and a seed,
 * so a read that returns the right bytes from the wrong place, a stale generation or a torn block is caught.
 */
public final class DataPattern {
    private DataPattern() {}

    /** Fills {@code buffer} with the words for device bytes [deviceOffset, deviceOffset + buffer size). */
    public static void fill(MemorySegment buffer, long deviceOffset, long seed) {
        long n = buffer.byteSize() / 8;
        for (long i = 0; i < n; i++) {
            buffer.set(JAVA_LONG, i * 8, word(deviceOffset + i * 8, seed));
        }
    }

    /** The byte offset (within the buffer) of the first word that differs, or -1 when all match. */
    public static long firstMismatch(MemorySegment buffer, long deviceOffset, long seed) {
        long n = buffer.byteSize() / 8;
        for (long i = 0; i < n; i++) {
            if (buffer.get(JAVA_LONG, i * 8) != word(deviceOffset + i * 8, seed)) {
                return i * 8;
            }
        }
        return -1;
    }

    /** The first non-zero byte offset within the buffer, or -1 when it is all zeroes. */
    public static long firstNonZero(MemorySegment buffer) {
        long n = buffer.byteSize() / 8;
        for (long i = 0; i < n; i++) {
            if (buffer.get(JAVA_LONG, i * 8) != 0) {
                return i * 8;
            }
        }
        return -1;
    }

    static long word(long position, long seed) {
        long z = position * 0x9E3779B97F4A7C15L + seed;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) | 1; // never zero, so a zeroed block never passes as data
    }
}
