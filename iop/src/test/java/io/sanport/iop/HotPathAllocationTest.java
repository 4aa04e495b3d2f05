package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data path allocates nothing: a closed loop of 4 KiB random reads at queue depth 32, every request
 * preallocated and resubmitted from its own callback into a fixed buffer, run wholly on the reactor thread,
 * costs that thread (almost) no heap after warm-up. Measured with the JVM's per-thread allocation counter.
 */
class HotPathAllocationTest {
    static final int QUEUE_DEPTH = 32;
    static final int BLOCK = 4096;
    static final long DEVICE = 64L << 20;
    static final long WARM_UP = 100_000;
    static final long MEASURED = 1_000_000;
    static final double MAX_BYTES_PER_IO = 0.01;

    /** One closed loop: QUEUE_DEPTH requests that each resubmit themselves until {@code target} completed. */
    static final class ClosedLoop implements IoCallback {
        final Reactor reactor;
        final IoRequest[] requests = new IoRequest[QUEUE_DEPTH];
        final long[] buffers = new long[QUEUE_DEPTH];
        long random = 0x9E3779B97F4A7C15L; // xorshift64 state
        long target;
        long issued;
        long completed;
        long failed;
        int firstFailure;
        CountDownLatch done;

        ClosedLoop(Reactor reactor) {
            this.reactor = reactor;
            for (int i = 0; i < QUEUE_DEPTH; i++) {
                requests[i] = new IoRequest(this);
            }
        }

        /** Reactor thread: takes one buffer per request, once. */
        void takeBuffers() {
            BufferPool pool = reactor.buffers();
            for (int i = 0; i < QUEUE_DEPTH; i++) {
                buffers[i] = pool.address(pool.acquire());
            }
        }

        long nextOffset() {
            long x = random;
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            random = x;
            return (x & (DEVICE / BLOCK - 1)) * BLOCK;
        }

        /** Reactor thread: starts {@code count} more I/Os. */
        void start(long count, CountDownLatch latch) {
            target = count;
            issued = 0;
            completed = 0;
            done = latch;
            for (int i = 0; i < QUEUE_DEPTH; i++) {
                issued++;
                reactor.submit(requests[i].read(0, nextOffset(), BLOCK, buffers[i]));
            }
        }

        @Override
        public void ioComplete(IoRequest request) {
            completed++;
            if (!request.succeeded()) {
                if (failed++ == 0) firstFailure = request.result();
            }
            if (issued < target) {
                issued++;
                reactor.submit(request.read(0, nextOffset(), BLOCK, request.address())); // its own buffer again
            } else if (completed == target) {
                done.countDown();
            }
        }

        void run(long count) throws Exception {
            CountDownLatch latch = new CountDownLatch(1);
            reactor.execute(() -> start(count, latch));
            assertTrue(latch.await(60, TimeUnit.SECONDS), "closed loop did not finish: " + completed + " of " + count);
        }
    }

    @Test
    void millionReadsAllocateNothingOnTheReactorThread() throws Exception {
        try (BlockDevice dev = BlockDevices.open("ram:" + (DEVICE >> 20) + "M")) {
            closedLoop(dev, MEASURED, false);
        }
    }

    /**
     * The same on an O_DIRECT file, whose reads complete through the ring, with batched sleeps (min_wait) on:
     * each sleep's io_uring_enter with its ext arg allocates nothing either.
     */
    @Test
    void fileReadsWithBatchedSleepsAllocateNothing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("alloc.img");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
            for (long at = 0; at < DEVICE; at += chunk.capacity()) {
                chunk.clear();
                ch.write(chunk, at); // written, not sparse: reads go to the disk
            }
        }
        int saved = EventLoop.minWaitMicros;
        EventLoop.minWaitMicros = 20;
        try (BlockDevice dev = BlockDevices.open(file.toString())) {
            closedLoop(dev, MEASURED / 5, true);
        } finally {
            EventLoop.minWaitMicros = saved;
        }
    }

    private static void closedLoop(BlockDevice dev, long measured, boolean batched) throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        try (Reactor r = new Reactor("alloc", new ReactorConfig(64, BLOCK, QUEUE_DEPTH), dev)) {
            if (batched) {
                Assumptions.assumeTrue(r.batchedSleeps(), "kernel lacks IORING_FEAT_MIN_TIMEOUT (Linux < 6.12)");
            }
            ClosedLoop loop = new ClosedLoop(r);
            r.call(x -> {
                loop.takeBuffers();
                return null;
            }).get(10, TimeUnit.SECONDS);
            long tid = r.thread().threadId();

            loop.run(WARM_UP);
            long before = threads.getThreadAllocatedBytes(tid);
            long t0 = System.nanoTime();
            loop.run(measured);
            long nanos = System.nanoTime() - t0;
            long after = threads.getThreadAllocatedBytes(tid);

            assertEquals(0, loop.failed, "failed reads, first " + loop.firstFailure);
            assertEquals(measured, loop.completed);
            long bytes = after - before;
            double perIo = (double) bytes / measured;
            System.out.printf("%d reads in %d ms (%.0f IOPS), reactor thread allocated %d bytes (%.5f per I/O)%n",
                    measured, nanos / 1_000_000, measured * 1e9 / nanos, bytes, perIo);
            assertTrue(before > 0 && after >= before, "the allocation counter must work: " + before + ", " + after);
            assertTrue(perIo < MAX_BYTES_PER_IO, "the reactor thread allocated " + bytes + " bytes for " + measured
                    + " reads (" + perIo + " per I/O)");
        }
    }
}
