package io.sanport.hostdriver;

import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One reactor's counters of one namespace or one port, in one {@code long[]} with named offsets: written with plain
 * stores by that reactor's thread only (no atomics, no allocation), read with opaque loads by a scrape, which adds
 * up the reactors ({@link TargetStats}). The same layout serves both: a port leaves the latency part at zero.
 */
final class IoCounters {
    static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    /** Latency buckets: upper bounds 16 us, 32 us, ... 2^20 us (about 1 s), then +Inf. */
    static final int BUCKETS = 18;
    static final int FIRST_BOUND_MICROS_LOG2 = 4;

    static final int READS = 0;
    static final int WRITES = 1;
    static final int BYTES_READ = 2;
    static final int BYTES_WRITTEN = 3;
    static final int ERRORS = 4;                                   // by status code type (SCT 0..7)
    static final int QUEUES_OPENED = ERRORS + 8;
    static final int QUEUES_CLOSED = QUEUES_OPENED + 1;
    static final int OUTSTANDING = QUEUES_CLOSED + 1;              // commands taken and not yet freed
    static final int DISCONNECTS = OUTSTANDING + 1;                // by DisconnectReason ordinal
    static final int TERM_REQS = DISCONNECTS + DisconnectReason.values().length; // by FES 0..7
    static final int READ_NANOS = TERM_REQS + 8;
    static final int WRITE_NANOS = READ_NANOS + 1;
    static final int READ_LATENCY = WRITE_NANOS + 1;
    static final int WRITE_LATENCY = READ_LATENCY + BUCKETS;
    static final int SIZE = WRITE_LATENCY + BUCKETS;

    final long[] v = new long[SIZE];

    private IoCounters() {}

    static IoCounters create() {
        return new IoCounters();
    }

    /**
     * Counts a finished I/O command of {@code r} that took {@code nanos}: a successful read or write adds to its
     * count, bytes and latency; a failure to its status code type; other successful commands (flush...) to nothing.
     */
    void completed(Request r, long nanos) {
        long[] a = v;
        if (r.status != Status.SUCCESS) {
            a[ERRORS + (r.status >>> 8 & 7)]++;
            return;
        }
        int opcode = r.opcode();
        if (opcode == IoOpcode.READ) {
            a[READS]++;
            a[BYTES_READ] += r.dataLength;
            a[READ_NANOS] += nanos;
            a[READ_LATENCY + bucket(nanos)]++;
        } else if (opcode == IoOpcode.WRITE) {
            a[WRITES]++;
            a[BYTES_WRITTEN] += r.dataLength;
            a[WRITE_NANOS] += nanos;
            a[WRITE_LATENCY + bucket(nanos)]++;
        }
    }

    /** The bucket of a latency: the first whose upper bound (16 us * 2^i) it does not exceed. */
    static int bucket(long nanos) {
        long micros = nanos / 1000;
        if (micros <= 1L << FIRST_BOUND_MICROS_LOG2) {
            return 0;
        }
        int log2 = 64 - Long.numberOfLeadingZeros(micros - 1); // ceil(log2(micros))
        return Math.min(log2 - FIRST_BOUND_MICROS_LOG2, BUCKETS - 1);
    }

    /** The upper bound of bucket {@code i} in seconds (+Inf for the last). */
    static double boundSeconds(int i) {
        return i == BUCKETS - 1 ? Double.POSITIVE_INFINITY : (1L << (FIRST_BOUND_MICROS_LOG2 + i)) / 1e6;
    }

    /** Adds this reactor's values into {@code sum}, read as they are now (another thread writes them). */
    void addTo(long[] sum) {
        for (int i = 0; i < SIZE; i++) {
            sum[i] += (long) SLOT.getOpaque(v, i);
        }
    }
}
