package io.sanport.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BenchResultTest {
    private static final Workload W = new Workload(Workload.Pattern.RANDREAD, 4096, 32, 2, 1);

    @Test
    void cpuPerMillionIosIsTheWindowsCpuOverItsIos() {
        BenchResult r = new BenchResult("sanport", W, 400_000, 400_000L * 4096, 2, 1, 1, 2, 0, 0.5);
        assertEquals(1.25, r.cpuSecondsPerMillionIos(), 1e-9);
        assertTrue(r.json().endsWith("\"cpu_s\":0.500,\"cpu_s_per_mio\":1.25}"), r.json());
        assertTrue(r.summary().contains("CPU 0.50 s (1.25 s per million I/Os)"), r.summary());
    }

    @Test
    void unknownCpuIsNullNotNaN() {
        BenchResult r = new BenchResult("sanport", W, 0, 0, 2, 0, 0, 0, 0, Double.NaN);
        assertTrue(r.json().endsWith("\"cpu_s\":null,\"cpu_s_per_mio\":null}"), r.json());
        assertTrue(!r.summary().contains("CPU"), r.summary());
    }

    @Test
    void processCpuAdvancesWhileThisThreadWorks() {
        long before = ProcessCpu.nanos();
        long x = 0;
        for (long deadline = System.nanoTime() + 50_000_000; System.nanoTime() < deadline; ) x += x * 31 + 7;
        long after = ProcessCpu.nanos();
        assertTrue(before >= 0 && after - before > 10_000_000, "CPU " + before + " -> " + after + " (" + x + ")");
    }
}
