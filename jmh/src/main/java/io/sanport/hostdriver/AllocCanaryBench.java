package io.sanport.hostdriver;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/**
 * Allocates 16 bytes of data per operation (a 32-byte array with its header) on purpose: {@code bench/jmh.sh
 * --check-alloc} requires the GC profiler to see it above the bound, so a profiler that reports nothing, or a
 * parse that finds no number, cannot pass the zero-allocation check by accident.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC"})
public class AllocCanaryBench {
    @Benchmark
    public byte[] allocates() {
        return new byte[16]; // returned to JMH's blackhole: escapes, so the JIT cannot remove it
    }
}
