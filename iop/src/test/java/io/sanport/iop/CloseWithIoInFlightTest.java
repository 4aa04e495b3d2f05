package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.Native;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Close quiesces: a close that arrives while most of 2000 writes still wait for a ring slot lets all of them
 * finish (none dropped, none failed, each callback once), leaves their data on the medium, and then frees
 * everything the reactor held: the ring's fd and mappings, the eventfd, the registered buffers.
 */
class CloseWithIoInFlightTest {
    static final int WRITES = 2000;
    static final int BLOCK = 4096;
    static final long SEED = 0xC105EL;
    /** A ring of 16 entries: 31 slots, so nearly all 2000 writes are parked when close is called. */
    static final ReactorConfig CONFIG = new ReactorConfig(16, BLOCK, WRITES);

    @TempDir
    Path dir;

    @Test
    void closeFinishesEveryWriteThenFreesEverything() throws Throwable {
        String image = dir.resolve("close.img").toString();
        // a first reactor started and closed, so classes, liburing and JIT threads are in place before counting
        try (BlockDevice dev = BlockDevices.open(image, OpenOptions.DEFAULT.creating(16 << 20));
             Reactor warm = new Reactor("warm-up", CONFIG, dev)) {
            Io.writePattern(warm, 0, 0, BLOCK, 1);
        }

        int[] calls = new int[WRITES];
        int[] results = new int[WRITES];
        int[] ackOrder = new int[WRITES];
        int[] acks = new int[1];
        int[] waitingAtClose = new int[1];
        long[] region = new long[2];
        boolean[] mappedWhileRunning = new boolean[1];
        Resources baseline;
        Resources running;
        try (BlockDevice dev = BlockDevices.open(image)) {
            assertTrue(dev.directIo());
            baseline = Resources.now();
            Reactor r = new Reactor("closing", CONFIG, dev);
            running = Resources.now();
            CompletableFuture<Void> submitted = new CompletableFuture<>();
            r.execute(() -> {
                BufferPool pool = r.buffers();
                region[0] = pool.region().address();
                region[1] = pool.region().byteSize();
                try {
                    mappedWhileRunning[0] = Resources.mapped(region[0], region[1]);
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
                for (int i = 0; i < WRITES; i++) {
                    int index = pool.acquire();
                    long offset = (long) i * BLOCK;
                    DataPattern.fill(pool.buffer(index), offset, SEED);
                    int n = i;
                    r.submit(new IoRequest(q -> {
                        calls[n]++;
                        results[n] = q.result();
                        ackOrder[acks[0]++] = n;
                    }).write(0, offset, BLOCK, pool.address(index), false));
                }
                waitingAtClose[0] = r.waiting();
                submitted.complete(null);
            });
            r.close(); // at once: the task may not even have run yet

            assertTrue(submitted.isDone(), "a task queued before close runs before the reactor stops");
            assertFalse(r.thread().isAlive());
            assertTrue(waitingAtClose[0] >= WRITES - r.capacity(), "only " + waitingAtClose[0] + " were parked");
            assertEquals(WRITES, acks[0], "completions after close");
            for (int i = 0; i < WRITES; i++) {
                assertEquals(1, calls[i], "callback count of write " + i);
                assertEquals(BLOCK, results[i], "result of write " + i);
            }
            assertThrows(RejectedExecutionException.class, () -> r.execute(() -> { }));
            assertThrows(RejectedExecutionException.class, () -> r.call(x -> 1));
            r.close(); // twice is harmless

            Resources after = Resources.now();
            assertTrue(running.uringFds > baseline.uringFds && running.uringMaps > baseline.uringMaps
                            && running.eventFds > baseline.eventFds,
                    "the probe must see a live reactor: before " + baseline + ", running " + running);
            assertEquals(baseline.uringFds, after.uringFds, "io_uring fds: " + after.fds);
            assertEquals(baseline.eventFds, after.eventFds, "eventfds: " + after.fds);
            assertEquals(baseline.uringMaps, after.uringMaps, "io_uring mappings left");
            assertEquals(baseline.fds.size(), after.fds.size(), "fds before " + baseline.fds + "\nafter " + after.fds);
            assertTrue(mappedWhileRunning[0], "the mincore probe must see the live buffer pool");
            assertFalse(Resources.mapped(region[0], region[1]), "the buffer pool is still mapped");
        }

        // a new device and a new reactor see the data; the writes acknowledged last are checked by name
        try (BlockDevice dev = BlockDevices.open(image); Reactor r = new Reactor("reader", CONFIG, dev)) {
            for (int k = 1; k <= 16; k++) {
                int n = ackOrder[WRITES - k];
                assertEquals(-1, Io.verifyPattern(r, 0, (long) n * BLOCK, BLOCK, SEED),
                        "write " + n + ", acknowledged " + k + " from last, is not on the device");
            }
            for (int n = 0; n < WRITES; n++) {
                assertEquals(-1, Io.verifyPattern(r, 0, (long) n * BLOCK, BLOCK, SEED), "write " + n);
            }
        }
    }

    /** What a reactor holds that outlives it if leaked: fds by target, io_uring mappings. */
    record Resources(Map<Integer, String> fds, long uringFds, long eventFds, long uringMaps) {
        static Resources now() throws IOException {
            Map<Integer, String> fds = new TreeMap<>();
            try (Stream<Path> list = Files.list(Path.of("/proc/self/fd"))) {
                for (Path p : list.toList()) {
                    try {
                        fds.put(Integer.parseInt(p.getFileName().toString()), Files.readSymbolicLink(p).toString());
                    } catch (IOException gone) {
                        // the fd of the directory listing itself
                    }
                }
            }
            long uring = fds.values().stream().filter(t -> t.contains("io_uring")).count();
            long eventfd = fds.values().stream().filter(t -> t.contains("[eventfd]")).count();
            List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
            long uringMaps = maps.stream().filter(l -> l.contains("io_uring")).count();
            return new Resources(fds, uring, eventfd, uringMaps);
        }

        private static final MethodHandle MINCORE = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("mincore").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.ADDRESS),
                Native.CAPTURE_ERRNO);

        /** Whether every page of [address, address + length) is mapped: mincore(2) fails ENOMEM otherwise. */
        static boolean mapped(long address, long length) throws Throwable {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment vec = arena.allocate((length + 4095) / 4096);
                MemorySegment state = arena.allocate(Native.CAPTURE_LAYOUT);
                int rc = (int) MINCORE.invokeExact(state, MemorySegment.ofAddress(address), length, vec);
                if (rc == 0) {
                    return true;
                }
                int errno = Native.errno(state);
                if (errno == io.sanport.bindings.Errno.ENOMEM) {
                    return false;
                }
                throw new IOException("mincore: errno " + errno);
            }
        }

        @Override
        public String toString() {
            return "io_uring fds " + uringFds + ", eventfds " + eventFds + ", io_uring mappings " + uringMaps
                    + ", fds " + fds.size();
        }
    }
}
