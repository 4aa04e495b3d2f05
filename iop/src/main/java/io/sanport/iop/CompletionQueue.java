package io.sanport.iop;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.uring.IoUring;
import io.sanport.bindings.uring.IoUringCq;
import io.sanport.bindings.uring.IoUringCqe;
import io.sanport.bindings.uring.Liburing;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * The mapped completion ring, read from Java: an acquire load of the kernel's tail, the entries up to it, one
 * release store of our head for the whole batch (io_uring_for_each_cqe + io_uring_cq_advance).
 */
public final class CompletionQueue {
    private static final VarHandle INT = JAVA_INT.varHandle();

    /** Called once per completion, on the reactor thread. */
    public interface Handler {
        void complete(long userData, int res, int flags);
    }

    private final MemorySegment khead;
    private final MemorySegment ktail;
    private final MemorySegment cqes;
    private final int mask;
    private final int entries;
    private final long cqeSize; // 16, or 32 on an IORING_SETUP_CQE32 ring (big_cqe[2] follows)

    CompletionQueue(MemorySegment ring, int setupFlags) {
        this.cqeSize = (setupFlags & Liburing.IORING_SETUP_CQE32) != 0 ? 2 * IoUringCqe.SIZE : IoUringCqe.SIZE;
        MemorySegment cq = ring.asSlice(IoUring.CQ, IoUringCq.LAYOUT);
        this.entries = IoUringCq.ring_entries(cq);
        this.mask = IoUringCq.ring_mask(cq);
        this.khead = IoUringCq.khead(cq).reinterpret(4);
        this.ktail = IoUringCq.ktail(cq).reinterpret(4);
        this.cqes = IoUringCq.cqes(cq).reinterpret((long) entries * cqeSize);
    }

    public int entries() {
        return entries;
    }

    /** Size of one entry: 32 bytes on an IORING_SETUP_CQE32 ring, else 16. */
    public long entrySize() {
        return cqeSize;
    }

    /** Completions ready to reap. */
    public int ready() {
        return (int) INT.getAcquire(ktail, 0L) - (int) khead.get(JAVA_INT, 0);
    }

    /** Hands every ready completion to {@code handler}; returns how many. */
    public int reap(Handler handler) {
        int head = khead.get(JAVA_INT, 0); // only we write it
        int tail = (int) INT.getAcquire(ktail, 0L);
        int n = tail - head;
        for (; head != tail; head++) {
            long at = (long) (head & mask) * cqeSize;
            long userData = IoUringCqe.user_data(cqes, at);
            int res = IoUringCqe.res(cqes, at);
            int flags = IoUringCqe.flags(cqes, at);
            // release the slot before the handler runs, so a handler that submits finds the CQ space
            INT.setRelease(khead, 0L, head + 1);
            handler.complete(userData, res, flags);
        }
        return n;
    }
}
