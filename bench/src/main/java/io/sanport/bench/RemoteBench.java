package io.sanport.bench;

import io.sanport.client.IoCallback;
import io.sanport.client.RemoteNamespace;
import io.sanport.iop.DataPattern;
import io.sanport.nvme.Status;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The remote benchmark: {@code queueDepth} commands kept in flight against one namespace through the Java
 * initiator, each resubmitted from its own completion. A job has one command in flight at a time, so its
 * counters are touched by one thread at a time (the completing queue's reader); they are summed at the end.
 */
public final class RemoteBench {
    private final RemoteNamespace namespace;
    private final Workload workload;
    private final long blocks;
    private final int lbasPerIo;
    private final Job[] jobs;
    private final CountDownLatch finished;
    private volatile long end;
    private volatile long rampEnd;

    private RemoteBench(RemoteNamespace namespace, Workload workload, Arena arena) {
        this.namespace = namespace;
        this.workload = workload;
        if (workload.blockSize() % namespace.blockSize() != 0) {
            throw new IllegalArgumentException("block size " + workload.blockSize() + " is not a multiple of the namespace's "
                    + namespace.blockSize() + "-byte LBA");
        }
        if (workload.blockSize() > namespace.maxTransferBytes()) {
            throw new IllegalArgumentException("block size " + workload.blockSize() + " exceeds the controller's transfer limit "
                    + namespace.maxTransferBytes());
        }
        this.lbasPerIo = workload.blockSize() / namespace.blockSize();
        this.blocks = namespace.blocks() / lbasPerIo;
        this.jobs = new Job[workload.queueDepth()];
        for (int i = 0; i < jobs.length; i++) {
            MemorySegment buffer = arena.allocate(workload.blockSize(), 4096);
            if (workload.pattern().write) {
                DataPattern.fill(buffer, i, 0x5a);
            }
            jobs[i] = new Job(buffer, 0x9E3779B97F4A7C15L * (i + 1), i);
        }
        this.finished = new CountDownLatch(jobs.length);
    }

    public static BenchResult run(RemoteNamespace namespace, Workload workload, PrintStream progressOut) throws IOException {
        try (Arena arena = Arena.ofShared()) {
            RemoteBench bench = new RemoteBench(namespace, workload, arena);
            return bench.run(progressOut);
        }
    }

    private BenchResult run(PrintStream progressOut) throws IOException {
        long copiedBefore = namespace.controller().payloadBytesCopied();
        long now = System.nanoTime();
        rampEnd = now + (long) (workload.rampSeconds() * 1e9);
        end = rampEnd + (long) (workload.seconds() * 1e9);
        for (Job job : jobs) {
            job.next(now);
        }
        long cpuBefore, cpuAfter;
        try (Progress p = progressOut == null ? null : new Progress(progressOut, "sanport remote " + workload.describe(),
                workload.rampSeconds() + workload.seconds(), this::ios, this::bytes)) {
            cpuBefore = ProcessCpu.sampleAt(rampEnd);
            if (!finished.await((long) (workload.seconds() + workload.rampSeconds() + 60), TimeUnit.SECONDS)) {
                throw new IOException("the benchmark did not finish: commands are stuck");
            }
            cpuAfter = ProcessCpu.nanos();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        LatencyHistogram all = new LatencyHistogram();
        long ios = 0, bytes = 0, errors = 0, moved = 0;
        String firstError = null;
        for (Job j : jobs) {
            ios += j.ios;
            bytes += j.bytes;
            moved += j.moved;
            errors += j.errors;
            all.add(j.latency);
            if (firstError == null) firstError = j.error;
        }
        if (firstError != null) {
            throw new IOException(errors + " commands failed, the first: " + firstError);
        }
        if (progressOut != null && !workload.pattern().write && moved > 0) {
            long copied = namespace.controller().payloadBytesCopied() - copiedBefore;
            progressOut.printf("read data copied from the receive staging buffer: %.1f%% (the rest read in place)%n",
                    100.0 * copied / moved);
        }
        double seconds = workload.seconds();
        return new BenchResult("sanport-remote", workload, ios, bytes, seconds, all.meanNanos() / 1e3,
                all.percentileNanos(0.5) / 1e3, all.percentileNanos(0.99) / 1e3, errors, ProcessCpu.seconds(cpuBefore, cpuAfter));
    }

    private long ios() {
        long n = 0;
        for (Job j : jobs) n += j.shownIos;
        return n;
    }

    private long bytes() {
        long n = 0;
        for (Job j : jobs) n += j.shownBytes;
        return n;
    }

    private final class Job implements IoCallback {
        final MemorySegment buffer;
        final LatencyHistogram latency = new LatencyHistogram();
        long random;
        long sequential;
        long started;
        long ios;
        long bytes;
        /** What the progress line reads: published every 256 completions, so the hot path has no fence per I/O. */
        volatile long shownIos;
        volatile long shownBytes;
        /** Bytes of every completed command, ramp included. */
        long moved;
        long errors;
        String error;
        boolean measuring;

        Job(MemorySegment buffer, long seed, int index) {
            this.buffer = buffer;
            this.random = seed;
            this.sequential = blocks * index / Math.max(1, workload.queueDepth());
        }

        void next(long now) {
            long block;
            if (workload.pattern().random) {
                random ^= random << 13;
                random ^= random >>> 7;
                random ^= random << 17;
                block = Long.remainderUnsigned(random, blocks);
            } else {
                block = sequential++;
                if (sequential >= blocks) sequential = 0;
            }
            started = now;
            try {
                if (workload.pattern().write) {
                    namespace.write(block * lbasPerIo, buffer, this);
                } else {
                    namespace.read(block * lbasPerIo, buffer, this);
                }
            } catch (IOException | RuntimeException e) {
                fail(e.toString());
            }
        }

        private void fail(String why) {
            if (errors++ == 0) error = why;
            finished.countDown();
        }

        @Override
        public void complete(int statusWord, long result, Throwable failure) {
            long now = System.nanoTime();
            if (failure != null || !Status.isSuccess(statusWord)) {
                fail(failure != null ? failure.toString() : Status.describe(statusWord));
                return;
            }
            moved += buffer.byteSize();
            if (!measuring && now >= rampEnd) {
                measuring = true;
                ios = 0;
                bytes = 0;
                shownIos = 0;
                shownBytes = 0;
                latency.reset();
            }
            if (now < end) {
                ios++;
                bytes += buffer.byteSize();
                latency.record(now - started);
                if ((ios & 255) == 0) {
                    shownIos = ios;
                    shownBytes = bytes;
                }
                next(now);
            } else {
                finished.countDown();
            }
        }
    }
}
