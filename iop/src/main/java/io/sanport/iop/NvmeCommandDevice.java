package io.sanport.iop;

/**
 * A device the reactor drives with NVMe commands (IORING_OP_URING_CMD) instead of read/write/fsync/fallocate,
 * like an nvmet passthru controller: the reactor keeps slots, back-pressure and completion, the device writes
 * the command and turns the completion into a result. The reactor sets its ring up with
 * {@link #ringSetupFlags()} when any of its devices is one of these.
 */
interface NvmeCommandDevice extends BlockDevice {

    /** Setup flags the ring needs: IORING_SETUP_SQE128 | IORING_SETUP_CQE32 (nvme_ns_uring_cmd refuses others). */
    int ringSetupFlags();

    /** Whether {@code r} takes more than one command (write zeroes beyond 64Ki blocks): the blocking path runs it. */
    boolean needsOffload(IoRequest r);

    /**
     * Writes {@code r}'s command into an SQE on registered file {@code fileIndex}; {@code fixed} says the data
     * is inside registered buffer 0, {@code scratch} is 16 bytes of native memory that belong to this request's
     * slot until it completes (a DSM range). False when the SQ is full.
     */
    boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData);

    /** The request's result from the CQE's {@code res}: an NVMe status (> 0) sets {@link IoRequest#nvmeStatus}. */
    int result(IoRequest r, int res);
}
