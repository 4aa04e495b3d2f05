package io.sanport.iop;

import java.io.Closeable;
import java.io.IOException;

/**
 * A device the I/O processor drives: a block device, a regular file or RAM. Opened once by its owner (the
 * {@link IoProcessor}), registered with every reactor's ring, closed once. Geometry is fixed while open.
 */
public interface BlockDevice extends Closeable {

    /** What the user named it by: a path, or "ram:64M". */
    String name();

    /** The provider's kind: "block", "file", "ram". */
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

    boolean supportsDiscard();

    boolean supportsWriteZeroes();

    /** Whether the device has a volatile write cache that FLUSH drains (a file's page cache counts). */
    boolean volatileWriteCache();

    /** Whether a write can be made durable by itself (RWF_DSYNC, the block layer's FUA). */
    boolean supportsFua();

    boolean readOnly();

    /**
     * Deallocates a range (DSM deallocate). Blocking: for devices whose discard is an ioctl, the reactor runs
     * this on the offload thread. Devices whose discard is a fallocate answer {@link #fallocateMode} instead.
     */
    void discard(long offset, long length) throws IOException;

    /** Writes zeroes to a range. Blocking, as {@link #discard}. */
    void writeZeroes(long offset, long length) throws IOException;

    /**
     * The fallocate(2) mode that does {@code discard ? discard : write zeroes} on this device, or -1 when it
     * has to go through the blocking {@link #discard} / {@link #writeZeroes} instead. A mode lets the reactor
     * use IORING_OP_FALLOCATE, which never blocks its thread.
     */
    int fallocateMode(boolean discard);

    @Override
    void close() throws IOException;
}
