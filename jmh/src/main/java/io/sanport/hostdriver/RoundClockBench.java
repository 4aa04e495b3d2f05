package io.sanport.hostdriver;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * (c) The two clock reads of one I/O command (when its SQE arrives, when it completes: its latency, a data
 * timeout's start): two System.nanoTime() calls (was) against two reads of the loop's round clock (now). The
 * reactor's loop thread cannot run a JMH benchmark, so the round clock is rebuilt here as
 * {@code io.sanport.iop.EventLoop#clock} is: a thread check and a field read, the benchmark's thread standing for
 * the loop's. The round's own System.nanoTime() is shared by every command the round handles and left out.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC"})
public class RoundClockBench {
    private Thread thread;
    private long roundAt;

    @Setup(Level.Iteration)
    public void setUp() {
        thread = Thread.currentThread(); // a Scope.Thread state is set up on the thread that measures
        roundAt = System.nanoTime();
    }

    private long clock() { // EventLoop.clock()
        return Thread.currentThread() == thread ? roundAt : System.nanoTime();
    }

    @Benchmark
    public void nowRoundClock(Blackhole bh) {
        bh.consume(clock());
        bh.consume(clock());
    }

    @Benchmark
    public void wasNanoTime(Blackhole bh) {
        bh.consume(System.nanoTime());
        bh.consume(System.nanoTime());
    }
}
