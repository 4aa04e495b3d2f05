package io.sanport.nvme.fabrics;

import io.sanport.nvme.SubmissionQueueEntry;

/**
 * The command capsule of an I/O queue as sanport sizes it on both sides: the 64-byte SQE and up to
 * {@link #IN_CAPSULE_DATA} bytes of data in the capsule (NVMe-oF 1.1 §2.2). Target transports advertise it
 * (IOCCSZ), the client fills it.
 */
public final class Capsule {
    /** In-capsule data an I/O command may carry: 8 KiB, as nvmet's default inline_data_size on RDMA. */
    public static final int IN_CAPSULE_DATA = 8192;
    /** A whole I/O command capsule: SQE and in-capsule data (an RDMA receive buffer). */
    public static final int SIZE = (int) SubmissionQueueEntry.SIZE + IN_CAPSULE_DATA;
    /** Identify Controller IOCCSZ: the capsule in 16-byte units, (64 + 8192) / 16 = 516. */
    public static final int IOCCSZ = SIZE / 16;

    private Capsule() {}
}
