package io.sanport.bench;

import io.sanport.iop.BlockDevice;
import io.sanport.iop.DataPattern;
import io.sanport.iop.IoCallback;
import io.sanport.iop.IoRequest;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * sanport's own local benchmark: fio's io_uring engine with fixedbufs and registerfiles, as a closed loop of
 * {@code queueDepth} preallocated requests on one reactor, each resubmitted from its own completion. Nothing
 * is allocated per I/O, and nothing leaves the reactor thread until the run ends.
 */
public final class LocalBench {
    private final Reactor reactor;
    private final BlockDevice device;
    private final Workload workload;
    private final Job[] jobs;
    private final LatencyHistogram latency = new LatencyHistogram();
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    private final long blocks;
    private long measureStart;
    private long end;
    private long ios;
    private long bytes;
    private long errors;
    private long sequential;
    private int running;
    private volatile long publishedIos;
    private volatile long publishedBytes;
    private String firstError;

    private LocalBench(Reactor reactor, BlockDevice device, Workload workload) {
        this.reactor = reactor;
        this.device = device;
        this.workload = workload;
        this.blocks = device.size() / workload.blockSize();
        if (blocks == 0) {
            throw new IllegalArgumentException(device.name() + " is smaller than one block of " + workload.blockSize());
        }
        this.jobs = new Job[workload.queueDepth()];
    }

    /** A reactor sized for this workload: enough ring entries for the queue depth, one buffer per slot. */
    public static ReactorConfig reactorConfig(Workload w) {
        int entries = Integer.highestOneBit(Math.max(8, w.queueDepth()) * 2 - 1);
        int bufferSize = Math.max(4096, (w.blockSize() + 4095) & -4096);
        return new ReactorConfig(Math.max(entries, 8), bufferSize, w.queueDepth());
    }

    /** Runs {@code workload} against device 0 of {@code reactor}, printing progress to {@code progressOut} (or not, if null). */
    public static BenchResult run(Reactor reactor, Workload workload, PrintStream progressOut) throws IOException {
        LocalBench bench = new LocalBench(reactor, reactor.device(0), workload);
        long measured = System.nanoTime() + (long) (workload.rampSeconds() * 1e9);
        reactor.execute(bench::start);
        String label = "sanport " + workload.describe();
        long cpuBefore, cpuAfter;
        try (Progress p = progressOut == null ? null
                : new Progress(progressOut, label, workload.rampSeconds() + workload.seconds(),
                () -> bench.publishedIos, () -> bench.publishedBytes)) {
            cpuBefore = ProcessCpu.sampleAt(measured); // off the reactor thread: its hot path stays as it is
            bench.finished.get((long) (workload.seconds() + workload.rampSeconds() + 60), TimeUnit.SECONDS);
            cpuAfter = ProcessCpu.nanos();
        } catch (Exception e) {
            throw new IOException("the benchmark did not finish: " + e, e);
        }
        if (bench.firstError != null) {
            throw new IOException(bench.errors + " I/O errors, the first: " + bench.firstError);
        }
        double seconds = (bench.endNanos - bench.measureStart) / 1e9;
        LatencyHistogram h = bench.latency;
        return new BenchResult("sanport", workload, bench.ios, bench.bytes, seconds, h.meanNanos() / 1e3,
                h.percentileNanos(0.50) / 1e3, h.percentileNanos(0.99) / 1e3, bench.errors,
                ProcessCpu.seconds(cpuBefore, cpuAfter));
    }

    private long endNanos;
    private boolean ramping;
    private long rampEnd;

    /** On the reactor: fills the buffers (writes carry a verifiable pattern) and starts every slot. */
    private void start() {
        long now = System.nanoTime();
        ramping = workload.rampSeconds() > 0;
        rampEnd = now + (long) (workload.rampSeconds() * 1e9);
        measureStart = ramping ? rampEnd : now;
        end = rampEnd + (long) (workload.seconds() * 1e9);
        for (int i = 0; i < jobs.length; i++) {
            int buffer = reactor.buffers().acquire();
            if (workload.pattern().write) {
                DataPattern.fill(reactor.buffers().buffer(buffer), i, 0x5a);
            }
            jobs[i] = new Job(reactor.buffers().address(buffer), 0x9E3779B97F4A7C15L * (i + 1));
        }
        running = jobs.length;
        for (Job job : jobs) {
            job.next(now);
        }
    }

    private final class Job implements IoCallback {
        private final IoRequest request = new IoRequest(this);
        private final long address;
        private long random;
        private long started;

        Job(long address, long seed) {
            this.address = address;
            this.random = seed;
        }

        void next(long now) {
            long block;
            if (workload.pattern().random) {
                random ^= random << 13; // xorshift64
                random ^= random >>> 7;
                random ^= random << 17;
                block = Long.remainderUnsigned(random, blocks);
            } else {
                block = sequential++;
                if (sequential == blocks) sequential = 0;
            }
            long offset = block * workload.blockSize();
            started = now;
            if (workload.pattern().write) {
                request.write(0, offset, workload.blockSize(), address, false);
            } else {
                request.read(0, offset, workload.blockSize(), address);
            }
            reactor.submit(request);
        }

        @Override
        public void ioComplete(IoRequest r) {
            long now = System.nanoTime();
            if (ramping && now >= rampEnd) {
                ramping = false;
                ios = bytes = 0;
                latency.reset();
            }
            if (r.succeeded()) {
                ios++;
                bytes += r.length();
                latency.record(now - started);
            } else if (errors++ == 0) {
                firstError = r.describe(device);
            }
            if ((ios & 1023) == 0) {
                publishedIos = ios;
                publishedBytes = bytes;
            }
            if (now < end && errors == 0) {
                next(now);
            } else if (--running == 0) {
                endNanos = Math.min(now, end);
                publishedIos = ios;
                finished.complete(null);
            }
        }
    }
}
