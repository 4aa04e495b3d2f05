package io.sanport.bench;

import java.util.Locale;

/** One benchmark's figures, in the units fio prints. */
public record BenchResult(String engine, Workload workload, long ios, long bytes, double seconds,
                          double meanLatencyUs, double p50LatencyUs, double p99LatencyUs, long errors) {

    public double iops() { return ios / seconds; }

    public double mibPerSecond() { return bytes / seconds / (1 << 20); }

    public String json() {
        return String.format(Locale.ROOT, "{\"engine\":\"%s\",\"rw\":\"%s\",\"bs\":%d,\"qd\":%d,\"seconds\":%.2f,"
                        + "\"ios\":%d,\"iops\":%.0f,\"mib_s\":%.1f,\"lat_mean_us\":%.1f,\"lat_p50_us\":%.1f,"
                        + "\"lat_p99_us\":%.1f,\"errors\":%d}",
                engine, workload.pattern().fioName, workload.blockSize(), workload.queueDepth(), seconds, ios, iops(),
                mibPerSecond(), meanLatencyUs, p50LatencyUs, p99LatencyUs, errors);
    }

    public String summary() {
        return String.format(Locale.ROOT, "%s %s: %,.0f IOPS, %,.1f MiB/s, latency mean %.1f us, p50 %.1f us, p99 %.1f us%s",
                engine, workload.describe(), iops(), mibPerSecond(), meanLatencyUs, p50LatencyUs, p99LatencyUs,
                errors > 0 ? ", " + errors + " ERRORS" : "");
    }
}
