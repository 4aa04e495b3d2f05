package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_context} ({@code <infiniband/verbs.h>}): an open device. rdma-core allocates it at the end
 * of a larger {@code verbs_context}; only this public head is mirrored.
 */
public final class IbvContext {
    private IbvContext() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("device"),
            IbvContextOps.LAYOUT.withName("ops"),
            JAVA_INT.withName("cmd_fd"),
            JAVA_INT.withName("async_fd"),
            JAVA_INT.withName("num_comp_vectors"),
            MemoryLayout.paddingLayout(4),
            MemoryLayout.sequenceLayout(40, JAVA_BYTE).withByteAlignment(8).withName("mutex"),
            ADDRESS.withName("abi_compat")
    ).withName("ibv_context");

    public static final long DEVICE = Native.requireOffset(LAYOUT, "device");
    public static final long OPS = Native.requireOffset(LAYOUT, "ops");
    public static final long CMD_FD = Native.requireOffset(LAYOUT, "cmd_fd");
    public static final long ASYNC_FD = Native.requireOffset(LAYOUT, "async_fd");
    public static final long NUM_COMP_VECTORS = Native.requireOffset(LAYOUT, "num_comp_vectors");

    /** A context pointer as returned by C, sized to this layout. */
    public static MemorySegment of(MemorySegment pointer) { return pointer.reinterpret(LAYOUT.byteSize()); }

    public static MemorySegment device(MemorySegment s) { return s.get(ADDRESS, DEVICE); }
    /** The provider function pointer at {@code IbvContextOps.X} in this context's ops table. */
    public static MemorySegment op(MemorySegment s, long opOffset) { return s.get(ADDRESS, OPS + opOffset); }
    public static int cmd_fd(MemorySegment s) { return s.get(JAVA_INT, CMD_FD); }
    public static int async_fd(MemorySegment s) { return s.get(JAVA_INT, ASYNC_FD); }
    public static int num_comp_vectors(MemorySegment s) { return s.get(JAVA_INT, NUM_COMP_VECTORS); }
}
