package io.sanport.iop;

/**
 * Anything that holds one of an {@link EventLoop}'s slots while in flight: a block I/O ({@link IoRequest}) or
 * another {@link RingOperation}. The slot index is its user_data. When no slot or SQ entry is free it waits in
 * the loop's one park queue, linked through {@link #next}, and starts in submission order as slots free up
 * (the block layer's tag wait, SPDK's io_wait). Preallocated and reused by its owner, so parking allocates
 * nothing.
 */
abstract class RingWork {
    /** The next in the park queue; null when last or not parked. */
    RingWork next;
    /** A connection's receive or send: takes one of the slots kept for connections when one is free. */
    final boolean connectionSlot;

    RingWork() {
        this(false);
    }

    RingWork(boolean connectionSlot) {
        this.connectionSlot = connectionSlot;
    }

    /** Writes this work's SQE(s) with {@code userData}; false when the SQ is full. Loop thread. */
    abstract boolean prep(SubmissionQueue sq, long userData);

    /** One completion: {@code res} is the result or -errno, {@code flags} the CQE flags. Loop thread. */
    abstract void complete(int res, int flags);
}
