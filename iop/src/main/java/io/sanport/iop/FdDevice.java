package io.sanport.iop;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import java.io.IOException;

/** What every fd-backed device shares: one owner of the fd, closed once. */
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
