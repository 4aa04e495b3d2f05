package io.sanport.transport.tcp;

import io.sanport.bindings.libc.Iovec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What a connection's {@link SendQueue} sends as one unit, in stream order: a command's PDUs ({@link TcpCommand})
 * or a connection PDU (ICResp, C2HTermReq). Its iovecs live in preallocated native memory and are advanced in
 * place by short writes; {@link #next} links the queue, so queueing allocates nothing.
 */
abstract class SendJob {
    static final long IOV_SIZE = Iovec.LAYOUT.byteSize();

    private final MemorySegment iov;
    private int iovCount;
    private long left;      // bytes not on the wire yet
    SendJob next;           // the send FIFO
    boolean queued;

    /** {@code iov} holds room for this job's iovecs. */
    SendJob(MemorySegment iov) {
        this.iov = iov;
    }

    final void iovec(int i, long address, long length) {
        iov.set(ValueLayout.JAVA_LONG, i * IOV_SIZE, address);
        iov.set(ValueLayout.JAVA_LONG, i * IOV_SIZE + 8, length);
    }

    /** The job is {@code count} iovecs of {@code bytes} in all, ready to be queued. */
    final void ready(int count, long bytes) {
        iovCount = count;
        left = bytes;
    }

    final int iovCount() { return iovCount; }
    final long left() { return left; }
    final long base(int i) { return iov.get(ValueLayout.JAVA_LONG, i * IOV_SIZE); }
    final long length(int i) { return iov.get(ValueLayout.JAVA_LONG, i * IOV_SIZE + 8); }

    /** Consumes {@code n} sent bytes from the front of the iovecs; true when all of the job is sent. */
    final boolean consume(long n) {
        left -= n;
        for (int i = 0; i < iovCount && n > 0; i++) {
            long len = length(i);
            long take = Math.min(len, n);
            iovec(i, base(i) + take, len - take);
            n -= take;
        }
        return left <= 0;
    }

    /** Nothing may follow this job on the stream (a C2HTermReq). */
    boolean last() {
        return false;
    }

    /** Every byte of the job is on the wire. */
    abstract void sent();
}
