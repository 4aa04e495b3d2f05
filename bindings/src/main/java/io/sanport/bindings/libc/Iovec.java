package io.sanport.bindings.libc;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct iovec} ({@code <bits/types/struct_iovec.h>}). */
public final class Iovec {
    private Iovec() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"),
            JAVA_LONG.withName("iov_len")
    ).withName("iovec");

    private static final long IOV_BASE = Native.requireOffset(LAYOUT, "iov_base");
    private static final long IOV_LEN = Native.requireOffset(LAYOUT, "iov_len");

    public static void iov_base(MemorySegment s, MemorySegment v) { s.set(ADDRESS, IOV_BASE, v); }
    public static void iov_len(MemorySegment s, long v) { s.set(JAVA_LONG, IOV_LEN, v); }

    public static MemorySegment at(MemorySegment array, long index) {
        return array.asSlice(index * LAYOUT.byteSize(), LAYOUT.byteSize());
    }
}
