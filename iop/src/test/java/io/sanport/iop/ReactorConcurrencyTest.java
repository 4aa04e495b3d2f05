package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several reactors on one device, as the I/O processor runs them (one per core, the same devices registered in
 * every ring), each fed by several caller threads at once through {@link Reactor#execute}. Every caller owns a
 * disjoint region, writes it and reads each write back through its own reactor; at the end every region is
 * read again through a reactor that did not write it, so each ring saw the others' data on the medium.
 */
class ReactorConcurrencyTest {
    static final ReactorConfig CONFIG = new ReactorConfig(32, 64 * 1024, 16);
    static final int REACTORS = 3;
    static final int CALLERS = 3;
    static final int CHUNKS = 96;
    static final int[] SIZES = {4096, 512, 65536, 8192, 1024 * 3, 32768};
    static final long REGION = 4L << 20; // > CHUNKS * 64 KiB

    @TempDir
    Path dir;

    @Test
    void fileWithODirect() throws Exception {
        try (BlockDevice dev = BlockDevices.open(dir.resolve("c.img").toString(),
                OpenOptions.DEFAULT.creating(REACTORS * CALLERS * REGION))) {
            run(dev);
        }
    }

    @Test
    void ram() throws Exception {
        try (BlockDevice dev = BlockDevices.open("ram:" + (REACTORS * CALLERS * REGION >> 20) + "M")) {
            run(dev);
        }
    }

    static long seed(int reactor, int caller) {
        return 0xC0FFEEL * 31 + reactor * 1009L + caller;
    }

    static long regionStart(int reactor, int caller) {
        return (reactor * (long) CALLERS + caller) * REGION;
    }

    /** Chunk i of a region: where it starts (packed back to back, mixed sizes) and how long it is. */
    static long chunkOffset(int i) {
        long at = 0;
        for (int k = 0; k < i; k++) {
            at += SIZES[k % SIZES.length];
        }
        return at;
    }

    static void run(BlockDevice dev) throws Exception {
        List<Reactor> reactors = new ArrayList<>();
        ExecutorService callers = Executors.newFixedThreadPool(REACTORS * CALLERS);
        try {
            for (int i = 0; i < REACTORS; i++) {
                reactors.add(new Reactor("concurrent-" + i, CONFIG, dev));
            }
            CyclicBarrier start = new CyclicBarrier(REACTORS * CALLERS);
            List<Future<Long>> results = new ArrayList<>();
            for (int ri = 0; ri < REACTORS; ri++) {
                for (int ci = 0; ci < CALLERS; ci++) {
                    Reactor r = reactors.get(ri);
                    long base = regionStart(ri, ci);
                    long seed = seed(ri, ci);
                    results.add(callers.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        long bytes = 0;
                        for (int i = 0; i < CHUNKS; i++) {
                            int size = SIZES[i % SIZES.length];
                            long offset = base + chunkOffset(i);
                            Io.writePattern(r, 0, offset, size, seed);
                            assertEquals(-1, Io.verifyPattern(r, 0, offset, size, seed),
                                    r + " read back a different " + size + " bytes at " + offset);
                            bytes += size;
                        }
                        return bytes;
                    }));
                }
            }
            long total = 0;
            for (Future<Long> f : results) {
                total += f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(REACTORS * CALLERS * chunkOffset(CHUNKS), total);

            // every region, whole, through the next reactor over: data written by one ring, read by another
            for (int ri = 0; ri < REACTORS; ri++) {
                Reactor reader = reactors.get((ri + 1) % REACTORS);
                for (int ci = 0; ci < CALLERS; ci++) {
                    long base = regionStart(ri, ci);
                    long length = chunkOffset(CHUNKS);
                    for (long at = 0; at < length; at += CONFIG.bufferSize()) {
                        int n = (int) Math.min(CONFIG.bufferSize(), length - at);
                        long mismatch = Io.verifyPattern(reader, 0, base + at, n, seed(ri, ci));
                        assertEquals(-1, mismatch, "region of reactor " + ri + " caller " + ci + " read through "
                                + reader + ": mismatch at device offset " + (base + at + mismatch));
                    }
                }
            }
            for (Reactor r : reactors) {
                // each caller: one write and one read per chunk, all through this reactor
                assertTrue(r.completions() >= 2L * CALLERS * CHUNKS, r + " completed " + r.completions());
                assertEquals(0, r.inflight());
            }
        } finally {
            callers.shutdownNow();
            for (Reactor r : reactors) {
                r.close();
            }
        }
    }
}
