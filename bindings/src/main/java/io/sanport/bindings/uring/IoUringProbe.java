package io.sanport.bindings.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct io_uring_probe} ({@code <liburing/io_uring.h>}); {@code ops[]} follows the 16-byte header. */
public final class IoUringProbe {
    private IoUringProbe() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("last_op"),
            JAVA_BYTE.withName("ops_len"),
            JAVA_SHORT.withName("resv"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("resv2")
    ).withName("io_uring_probe");

    private static final long LAST_OP = Native.requireOffset(LAYOUT, "last_op");
    private static final long OPS_LEN = Native.requireOffset(LAYOUT, "ops_len");

    public static int last_op(MemorySegment s) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, LAST_OP)); }
    public static int ops_len(MemorySegment s) { return Byte.toUnsignedInt(s.get(JAVA_BYTE, OPS_LEN)); }

    /** {@code ops[i]}, a {@link IoUringProbeOp} in the flexible array after the header. */
    public static MemorySegment ops(MemorySegment s, int i) {
        return s.asSlice(LAYOUT.byteSize() + i * IoUringProbeOp.LAYOUT.byteSize(), IoUringProbeOp.LAYOUT);
    }
}
