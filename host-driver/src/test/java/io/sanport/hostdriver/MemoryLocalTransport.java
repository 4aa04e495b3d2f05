package io.sanport.hostdriver;

import io.sanport.nvme.Status;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * A {@link LocalTransport} over one {@link MemorySegment} standing in for every namespace's device, for tests of
 * the core without a ring. Completes inside the submit ({@code synchronous}) or on the next {@link #step()}.
 */
final class MemoryLocalTransport implements LocalTransport {
    private final MemorySegment disk;
    private final boolean synchronous;
    private final ArrayDeque<Request> pending = new ArrayDeque<>();
    private final ArrayDeque<Integer> statuses = new ArrayDeque<>();
    int failNext = Status.SUCCESS; // the status the next I/O completes with (a device error)
    long submitted;

    MemoryLocalTransport(MemorySegment disk, boolean synchronous) {
        this.disk = disk;
        this.synchronous = synchronous;
    }

    MemorySegment disk() {
        return disk;
    }

    private static MemorySegment at(long address, long length) {
        return MemorySegment.ofAddress(address).reinterpret(length);
    }

    private void done(Request r, int status) {
        submitted++;
        if (failNext != Status.SUCCESS) {
            status = failNext;
            failNext = Status.SUCCESS;
        }
        if (synchronous) {
            r.ioComplete(status);
        } else {
            pending.addLast(r);
            statuses.addLast(status);
        }
    }

    private int check(long offset, long length) {
        return offset < 0 || offset + length > disk.byteSize() ? Status.LBA_RANGE : Status.SUCCESS;
    }

    @Override
    public void read(Request r, Namespace ns, long offset, int length, long address) {
        int s = check(offset, length);
        if (s == Status.SUCCESS) MemorySegment.copy(disk, offset, at(address, length), 0, length);
        done(r, s);
    }

    @Override
    public void write(Request r, Namespace ns, long offset, int length, long address, boolean fua) {
        int s = check(offset, length);
        if (s == Status.SUCCESS) MemorySegment.copy(at(address, length), 0, disk, offset, length);
        done(r, s);
    }

    @Override
    public void flush(Request r, Namespace ns) {
        done(r, Status.SUCCESS);
    }

    @Override
    public void writeZeroes(Request r, Namespace ns, long offset, long length) {
        int s = check(offset, length);
        if (s == Status.SUCCESS) disk.asSlice(offset, length).fill((byte) 0);
        done(r, s);
    }

    @Override
    public void discard(Request r, Namespace ns, long offset, long length) {
        writeZeroes(r, ns, offset, length);
    }

    /** Completes what was submitted so far (one loop step of an I/O processor); how many. */
    int step() {
        int n = pending.size();
        for (int i = 0; i < n; i++) {
            pending.pollFirst().ioComplete(statuses.pollFirst());
        }
        return n;
    }
}
