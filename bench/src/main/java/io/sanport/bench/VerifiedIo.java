package io.sanport.bench;

import io.sanport.client.RemoteNamespace;
import io.sanport.iop.DataPattern;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A well-behaved host beside the abuse: {@code streams} threads, each owning a slice of the namespace, write
 * a seeded pattern of a random size (one block up to 64 KiB), read it back and compare. Any failed command,
 * timeout or mismatch is an error: a good host must see none, whatever else reaches the target.
 */
public final class VerifiedIo implements AutoCloseable {
    private static final long IO_TIMEOUT_SECONDS = 15;

    private final RemoteNamespace ns;
    private final Thread[] threads;
    private final AtomicLong ios = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private volatile boolean stop;

    public VerifiedIo(RemoteNamespace ns, int streams, long seed) {
        this.ns = ns;
        this.threads = new Thread[streams];
        long slice = ns.blocks() / streams;
        for (int i = 0; i < streams; i++) {
            long first = slice * i;
            long s = seed + i;
            threads[i] = Thread.ofPlatform().daemon().name("verified-io-" + i).unstarted(() -> loop(first, slice, s));
        }
    }

    public VerifiedIo start() {
        for (Thread t : threads) t.start();
        return this;
    }

    private void loop(long firstBlock, long blocks, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int bs = ns.blockSize();
        int maxBlocks = (int) Math.min(Math.min(65536, ns.maxTransferBytes()) / bs, blocks);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment out = arena.allocate((long) maxBlocks * bs, 4096);
            MemorySegment in = arena.allocate((long) maxBlocks * bs, 4096);
            while (!stop) {
                int n = rnd.nextInt(1, maxBlocks + 1);
                long lba = firstBlock + rnd.nextLong(blocks - n + 1);
                long pattern = rnd.nextLong();
                MemorySegment w = out.asSlice(0, (long) n * bs);
                MemorySegment r = in.asSlice(0, (long) n * bs);
                try {
                    DataPattern.fill(w, lba * bs, pattern);
                    ns.writeAsync(lba, w).get(IO_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    r.fill((byte) 0);
                    ns.readAsync(lba, r).get(IO_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    long bad = DataPattern.firstMismatch(r, lba * bs, pattern);
                    if (bad != -1) {
                        fail("data mismatch at byte " + bad + " of " + n + " blocks at LBA " + lba);
                    }
                    ios.addAndGet(2);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    fail(e.toString());
                    if (stop) return;
                    try {
                        Thread.sleep(100); // a dead controller would otherwise spin
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    private void fail(String why) {
        errors.incrementAndGet();
        firstError.compareAndSet(null, why);
    }

    public long ios() { return ios.get(); }
    public long errors() { return errors.get(); }
    public String firstError() { return firstError.get(); }

    /** Stops the streams after their command in flight. */
    @Override
    public void close() throws InterruptedException {
        stop = true;
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(IO_TIMEOUT_SECONDS * 2 + 5));
        }
    }
}
