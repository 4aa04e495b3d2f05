package io.sanport.bench;

/**
 * Log-linear latency histogram in nanoseconds (16 sub-buckets per power of two, ~6% resolution), a fixed
 * array: recording allocates nothing. Single writer (the reactor thread).
 */
public final class LatencyHistogram {
    private static final int SUB = 16;
    private final long[] counts = new long[64 * SUB];
    private long total;
    private long sum;

    public void record(long nanos) {
        long v = Math.max(nanos, 1);
        int msb = 63 - Long.numberOfLeadingZeros(v);
        int index = msb < 4 ? (int) v : msb * SUB + (int) ((v >>> (msb - 4)) & (SUB - 1));
        counts[index]++;
        total++;
        sum += v;
    }

    public long count() { return total; }

    public double meanNanos() { return total == 0 ? 0 : (double) sum / total; }

    /** The value at quantile {@code q} (0..1), as the upper edge of its bucket. */
    public long percentileNanos(double q) {
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank && counts[i] > 0) {
                return upperEdge(i);
            }
        }
        return 0;
    }

    private static long upperEdge(int index) {
        if (index < 4 * SUB && index < SUB) {
            return index;
        }
        int msb = index / SUB;
        long sub = index % SUB;
        return (1L << msb) + ((sub + 1) << (msb - 4)) - 1;
    }

    /** Adds another histogram's counts (after both writers have stopped). */
    public void add(LatencyHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        sum += other.sum;
    }

    public void reset() {
        java.util.Arrays.fill(counts, 0);
        total = 0;
        sum = 0;
    }
}
