package io.sanport.iop;

import java.io.Closeable;
import java.io.IOException;

/**
 * A device the I/O processor drives: a block device, a regular file, RAM or an NVMe namespace's char device.
 * Opened once by its owner (the {@link IoProcessor}), registered with every reactor's ring, closed once.
 * Geometry is fixed while open. Each kind writes its own SQEs ({@link #prep}), so the reactor never asks which
 * kind it drives.
 */
public interface BlockDevice extends Closeable {

    /** What the user named it by: a path, or "ram:64M". */
    String name();

    /** The provider's kind: "block", "file", "ram", "nvme-passthru". */
    String kind();

    /** The open file descriptor; the reactors register it and address it by index, not by fd. */
    int fd();

    /** Capacity in bytes, a multiple of {@link #logicalBlockSize()}. */
    long size();

    /** The smallest unit of I/O: offsets and lengths must be multiples of it (O_DIRECT's rule too). */
    int logicalBlockSize();

    int physicalBlockSize();

    /** The device's preferred I/O size, 0 when it has none. */
    int optimalIoSize();

    /** Whether I/O bypasses the page cache (O_DIRECT), so buffers must be aligned to the logical block size. */
    boolean directIo();

    /**
     * Whether O_DIRECT was asked for at open: what the namespace's configuration says, even where the filesystem
     * had none and {@link #directIo} is false (tmpfs before Linux 6.6). Devices are matched to configs on this.
     */
    default boolean directRequested() {
        return directIo();
    }

    /** Whether this kind can be opened through the page cache or around it (an image file, a block device). */
    default boolean pageCacheChoice() {
        return false;
    }

    boolean supportsDiscard();

    boolean supportsWriteZeroes();

    /**
     * Whether a range this device discarded is guaranteed to read back as zeroes (what Identify Namespace DLFEAT
     * may claim): a hole in a file or in tmpfs is; a block device's BLKDISCARD promises nothing.
     */
    default boolean deallocateReadsZeroes() {
        return false;
    }

    /**
     * The largest read or write one command of this device may carry: larger ones are run as chunks of this size
     * ({@link IoSplit}). Unbounded unless the device refuses more (an NVMe passthrough namespace: MDTS, the
     * kernel's max_hw_sectors); the block layer splits for block devices and files itself.
     */
    default long maxTransfer() {
        return Long.MAX_VALUE;
    }

    /** Whether the device has a volatile write cache that FLUSH drains (a file's page cache counts). */
    boolean volatileWriteCache();

    /** Whether a write can be made durable by itself (RWF_DSYNC, the block layer's FUA). */
    boolean supportsFua();

    boolean readOnly();

    /**
     * Deallocates a range (DSM deallocate). Blocking: the reactor calls it, on its offload threads, only for a
     * request the device {@link #offloads}.
     */
    void discard(long offset, long length) throws IOException;

    /** Writes zeroes to a range. Blocking, as {@link #discard}. */
    void writeZeroes(long offset, long length) throws IOException;

    // ---------------------------------------------------------------- how a reactor drives it

    /**
     * Setup flags its SQEs need on the ring: IORING_SETUP_SQE128 | IORING_SETUP_CQE32 for NVMe commands. A
     * reactor sets its ring up with those of all its devices.
     */
    default int ringSetupFlags() {
        return 0;
    }

    /** Bytes of native memory each request needs while in flight (an NVMe DSM range), else 0. */
    default int commandScratchBytes() {
        return 0;
    }

    /**
     * Whether {@code r} (a discard or write zeroes) has no non-blocking form on this device, such as BLKDISCARD
     * or a range beyond one NVMe command: the reactor then runs {@link #discard} / {@link #writeZeroes} on its
     * offload threads instead of calling {@link #prep}.
     */
    boolean offloads(IoRequest r);

    /**
     * Writes the SQE that runs {@code r} (already checked against this device's geometry) on registered file
     * {@code fileIndex}, with {@code userData}. {@code fixed} says the data lies inside registered buffer 0;
     * {@code scratch} is {@link #commandScratchBytes} of native memory, 16-byte aligned, that belong to the
     * request until it completes. False when the SQ is full. Reactor thread; allocates nothing.
     */
    boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData);

    /** The request's result from its CQE's {@code res}: bytes transferred (0 for the other ops) or -errno. */
    default int result(IoRequest r, int res) {
        return res;
    }

    @Override
    void close() throws IOException;
}
