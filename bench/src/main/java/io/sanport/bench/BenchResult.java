package io.sanport.bench;

import java.util.Locale;

/**
 * One benchmark's figures, in the units fio prints. {@code cpuSeconds}: the benchmark process's CPU time (all
 * threads, user + system) over the measured window, NaN if unknown.
 */
public record BenchResult(String engine, Workload workload, long ios, long bytes, double seconds,
                          double meanLatencyUs, double p50LatencyUs, double p99LatencyUs, long errors, double cpuSeconds) {

    public double iops() { return ios / seconds; }

    /**
     * Jobs that ran side by side as one result, as fio's group reporting: I/Os and bytes add up over the longest
     * job's time; the mean latency is weighted by I/Os; p50 and p99 are the worst job's (the jobs' histograms are
     * not merged).
     */
    public static BenchResult combine(java.util.List<BenchResult> jobs) {
        BenchResult first = jobs.getFirst();
        long ios = 0, bytes = 0, errors = 0;
        double seconds = 0, latencySum = 0, p50 = 0, p99 = 0, cpu = Double.NaN;
        for (BenchResult r : jobs) {
            // each job sampled the whole process over the same window: the largest is the group's, not the sum
            if (Double.isFinite(r.cpuSeconds)) cpu = Double.isNaN(cpu) ? r.cpuSeconds : Math.max(cpu, r.cpuSeconds);
            ios += r.ios;
            bytes += r.bytes;
            errors += r.errors;
            seconds = Math.max(seconds, r.seconds);
            latencySum += r.meanLatencyUs * r.ios;
            p50 = Math.max(p50, r.p50LatencyUs);
            p99 = Math.max(p99, r.p99LatencyUs);
        }
        return new BenchResult(first.engine, first.workload, ios, bytes, seconds, ios == 0 ? 0 : latencySum / ios,
                p50, p99, errors, cpu);
    }

    public double mibPerSecond() { return bytes / seconds / (1 << 20); }

    /** CPU seconds per million I/Os over the measured window; NaN if unknown or nothing completed. */
    public double cpuSecondsPerMillionIos() { return ios > 0 ? cpuSeconds * 1e6 / ios : Double.NaN; }

    private static String jsonNumber(double v, String format) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "null";
    }

    public String json() {
        return String.format(Locale.ROOT, "{\"engine\":\"%s\",\"rw\":\"%s\",\"bs\":%d,\"qd\":%d,\"seconds\":%.2f,"
                        + "\"ios\":%d,\"iops\":%.0f,\"mib_s\":%.1f,\"lat_mean_us\":%.1f,\"lat_p50_us\":%.1f,"
                        + "\"lat_p99_us\":%.1f,\"errors\":%d,\"cpu_s\":%s,\"cpu_s_per_mio\":%s}",
                engine, workload.pattern().fioName, workload.blockSize(), workload.queueDepth(), seconds, ios, iops(),
                mibPerSecond(), meanLatencyUs, p50LatencyUs, p99LatencyUs, errors, jsonNumber(cpuSeconds, "%.3f"),
                jsonNumber(cpuSecondsPerMillionIos(), "%.2f"));
    }

    public String summary() {
        return String.format(Locale.ROOT, "%s %s: %,.0f IOPS, %,.1f MiB/s, latency mean %.1f us, p50 %.1f us, p99 %.1f us%s%s",
                engine, workload.describe(), iops(), mibPerSecond(), meanLatencyUs, p50LatencyUs, p99LatencyUs,
                Double.isFinite(cpuSecondsPerMillionIos())
                        ? String.format(Locale.ROOT, ", CPU %.2f s (%.2f s per million I/Os)", cpuSeconds, cpuSecondsPerMillionIos()) : "",
                errors > 0 ? ", " + errors + " ERRORS" : "");
    }
}
