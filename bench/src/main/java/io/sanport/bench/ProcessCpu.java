package io.sanport.bench;

import java.lang.management.ManagementFactory;

/**
 * This JVM's CPU time, all threads (user + system, as in /proc/self/stat's utime + stime but in nanoseconds):
 * sampled at the end of a benchmark's ramp and at its end, so "faster" can be told from "uses more cores".
 */
final class ProcessCpu {
    private static final com.sun.management.OperatingSystemMXBean OS =
            ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os ? os : null;

    private ProcessCpu() {}

    /** CPU nanoseconds used by this process so far; -1 where the JVM cannot tell. */
    static long nanos() {
        return OS == null ? -1 : OS.getProcessCpuTime();
    }

    /** Seconds between two {@link #nanos()} samples; NaN if either is unknown. */
    static double seconds(long before, long after) {
        return before < 0 || after < 0 ? Double.NaN : (after - before) / 1e9;
    }

    /** Sleeps until {@code deadline} (System.nanoTime), then samples: the start of a measured window. */
    static long sampleAt(long deadline) throws InterruptedException {
        long wait;
        while ((wait = deadline - System.nanoTime()) > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        return nanos();
    }
}
