package io.sanport.client;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * (d) The Java client's batched R2T answers, the Java side only: the reader lists 8 R2Ts of 128 KiB writes
 * ({@link TcpPduSender#listR2T}) and builds their H2CData PDUs (MAXH2CDATA 32 KiB: 4 each) and the 64 iovecs of
 * the one gathering sendmsg ({@code listH2C}), which is not called: the queue's socket is a TcpSocket of no file
 * descriptor and nothing is transmitted while everything fits one sendmsg. Reported per R2T. The old way (one
 * sendmsg per R2T) differs by syscalls, not Java work, so it has no twin here. Header digests: off and on (CRC32C of
 * each 24-byte header).
 *
 * <p>The queue and its socket are built through their private constructors by reflection (setup only): no
 * connection, no reader thread, no ICReq.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC"})
public class R2tAnswerBench {
    private static final int R2TS = 8;
    private static final long WRITE = 128 * 1024;
    private static final long MAX_H2C_DATA = 32 * 1024;
    private static final MethodHandle LIST_H2C;

    static {
        try {
            LIST_H2C = MethodHandles.privateLookupIn(TcpPduSender.class, MethodHandles.lookup())
                    .findVirtual(TcpPduSender.class, "listH2C", MethodType.methodType(int.class, int.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Param({"false", "true"})
    public boolean headerDigest;

    private Arena arena;
    private TcpPduSender sender;
    private CommandSlot[] slots;

    @Setup(Level.Trial)
    public void setUp() throws ReflectiveOperationException {
        Constructor<TcpSocket> socket = TcpSocket.class.getDeclaredConstructor(int.class, String.class);
        socket.setAccessible(true);
        Constructor<NvmeTcpQueue> queue = NvmeTcpQueue.class.getDeclaredConstructor(TcpSocket.class, int.class,
                int.class, boolean.class, boolean.class, long.class);
        queue.setAccessible(true);
        NvmeTcpQueue q = queue.newInstance(socket.newInstance(-1, "jmh"), 1, 32, headerDigest, false, MAX_H2C_DATA);
        Field f = NvmeTcpQueue.class.getDeclaredField("sender");
        f.setAccessible(true);
        sender = (TcpPduSender) f.get(q);
        arena = Arena.ofConfined();
        MemorySegment data = arena.allocate(R2TS * WRITE, 4096);
        slots = new CommandSlot[R2TS];
        for (int i = 0; i < R2TS; i++) {
            slots[i] = q.slots[i];
            slots[i].cid = i;
            slots[i].dataAddress = data.address() + i * WRITE;
            slots[i].dataLength = WRITE;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close(); // the queue's own shared arena lives until the fork ends (closing the queue would close fd -1)
    }

    @Benchmark
    @OperationsPerInvocation(R2TS)
    public int nowBatchedR2T() throws Throwable {
        for (int i = 0; i < R2TS; i++) {
            sender.listR2T(slots[i], i, 0, WRITE);
        }
        int iovecs = (int) LIST_H2C.invokeExact(sender, 0);
        if (iovecs != R2TS * (int) (WRITE / MAX_H2C_DATA) * 2) {
            throw new IllegalStateException(iovecs + " iovecs listed");
        }
        return iovecs;
    }
}
