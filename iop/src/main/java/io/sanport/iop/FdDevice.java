package io.sanport.iop;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import java.io.IOException;

/**
 * What every fd-backed device shares: one owner of the fd, closed once, and the ordinary way to drive it
 * (nvmet's io-cmd-bdev.c and io-cmd-file.c): read and write, into registered buffer 0 when the data lies in it;
 * fdatasync for flush; fallocate for discard and write zeroes where the kind has a mode for them, else its
 * blocking call on the offload threads. A kind that speaks NVMe instead overrides {@link #prep}.
 */
abstract class FdDevice implements BlockDevice {
    protected final String name;
    protected final int fd;
    protected final long size;
    protected final boolean direct;
    protected final boolean readOnly;
    private boolean closed;

    FdDevice(String name, int fd, long size, boolean direct, boolean readOnly) {
        this.name = name;
        this.fd = fd;
        this.size = size;
        this.direct = direct;
        this.readOnly = readOnly;
    }

    @Override public String name() { return name; }
    @Override public int fd() { return fd; }
    @Override public long size() { return size; }
    @Override public boolean directIo() { return direct; }
    @Override public boolean readOnly() { return readOnly; }

    /**
     * The fallocate(2) mode that discards ({@code discard}) or writes zeroes on this device, or -1 when only the
     * blocking {@link #discard} / {@link #writeZeroes} can. A mode lets the reactor use IORING_OP_FALLOCATE,
     * which never blocks its thread.
     */
    int fallocateMode(boolean discard) {
        return -1;
    }

    @Override
    public boolean offloads(IoRequest r) {
        return r.op >= IoRequest.DISCARD && fallocateMode(r.op == IoRequest.DISCARD) < 0;
    }

    @Override
    public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
        return switch (r.op) {
            case IoRequest.READ -> fixed
                    ? sq.prepReadFixed(fileIndex, r.address, (int) r.length, r.offset, 0, userData)
                    : sq.prepRead(fileIndex, r.address, (int) r.length, r.offset, userData);
            case IoRequest.WRITE -> {
                int flags = r.fua ? Libc.RWF_DSYNC : 0;
                yield fixed
                        ? sq.prepWriteFixed(fileIndex, r.address, (int) r.length, r.offset, flags, 0, userData)
                        : sq.prepWrite(fileIndex, r.address, (int) r.length, r.offset, flags, userData);
            }
            case IoRequest.FLUSH -> sq.prepFdatasync(fileIndex, userData);
            default -> sq.prepFallocate(fileIndex, fallocateMode(r.op == IoRequest.DISCARD), r.offset, r.length,
                    userData);
        };
    }

    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }

    /** Closes an fd on a failed open without hiding the first error. */
    static void closeQuietly(int fd, Exception first) {
        try {
            Libc.close(fd);
        } catch (ErrnoException e) {
            first.addSuppressed(e);
        }
    }

    @Override
    public String toString() {
        return kind() + " " + name + " (" + size + " bytes, " + logicalBlockSize() + "-byte blocks"
                + (direct ? ", O_DIRECT" : ", buffered") + (readOnly ? ", read-only" : "") + ")";
    }
}
