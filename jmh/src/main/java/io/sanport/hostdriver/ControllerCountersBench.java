package io.sanport.hostdriver;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * (b) A controller counting a successful 4 KiB read: its per-reactor row ({@link Controller#ioDone}, plain
 * stores, now) against the LongAdders it replaced (was: a command count and a 512-byte sector count, each an
 * atomic add). One thread: the adders' uncontended case, their cheapest.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC"})
public class ControllerCountersBench {
    private BenchTarget fixture;
    private Arena arena;
    private Controller controller;
    private Request request;
    private final LongAdder readCommands = new LongAdder();
    private final LongAdder sectorsRead = new LongAdder();

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        fixture = new BenchTarget(1);
        arena = Arena.ofConfined();
        controller = new Controller(fixture.target, fixture.subsystem(), 1, "nqn.2025-01.io.sanport:jmh-host",
                UUID.randomUUID(), null, "jmh", 0);
        request = new Request(null, 0, arena.allocate(64, 8));
        request.dataLength = 4096;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (controller.readCommands() + readCommands.sum() == 0) {
            throw new IllegalStateException("neither way counted a read: the benchmark measured nothing");
        }
        arena.close();
        fixture.close();
    }

    @Benchmark
    public void nowReactorRow() {
        controller.ioDone(0, request, false);
    }

    @Benchmark
    public void wasLongAdders() {
        readCommands.increment(); // the code before the rows
        sectorsRead.add(request.dataLength >>> 9);
    }
}
