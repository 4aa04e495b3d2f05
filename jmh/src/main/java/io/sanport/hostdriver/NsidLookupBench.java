package io.sanport.hostdriver;

import java.io.IOException;
import java.util.NavigableMap;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * (a) The NSID of every I/O command to its namespace: the subsystem's open table ({@link Subsystem#namespace}, now)
 * against the TreeMap get it replaced (was: the same subsystem's map, the NSID boxed). Four namespaces, NSIDs 1, 2,
 * 3 and 1000 in turn: 1000 is past Integer's cache of small values, so the old way boxes one of four.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC"})
public class NsidLookupBench {
    private static final int[] NSIDS = {1, 2, 3, 1000};

    private BenchTarget fixture;
    private Subsystem subsystem;
    private NavigableMap<Integer, Namespace> map;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        fixture = new BenchTarget(NSIDS);
        subsystem = fixture.subsystem();
        map = subsystem.namespaces();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        fixture.close();
    }

    private int nsid() {
        return NSIDS[next++ & 3];
    }

    @Benchmark
    public Namespace nowOpenTable() {
        return subsystem.namespace(nsid());
    }

    @Benchmark
    public Namespace wasTreeMap() {
        Namespace ns = map.get(nsid()); // the code before the open table
        return ns != null && ns.enabled() ? ns : null;
    }
}
