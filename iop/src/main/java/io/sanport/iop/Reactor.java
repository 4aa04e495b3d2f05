package io.sanport.iop;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * One thread that owns, alone, one io_uring ring, one buffer pool and one confined arena, and runs every
 * request it is given to completion on that thread (SPDK's poll group, Aeron's agent). Other threads talk to
 * it only through {@link #execute}.
 *
 * <p>Two parts: the {@link EventLoop} (the thread, its task queue, the ring's slots and the one park queue that
 * every kind of ring work waits in when slots or SQ entries run out) and the {@link BlockEngine} (block I/O
 * checked against the device, prepared by the device, offloaded when it would block). Transports add their own
 * {@link RingOperation}s to the same ring.
 *
 * <p>Close quiesces: it stops taking tasks, lets everything waiting and in flight complete, then unregisters
 * and frees the ring, the buffers and the eventfd, in that order.
 */
public final class Reactor implements Executor, AutoCloseable {
    private final BlockEngine engine;
    private final EventLoop loop;
    private final AtomicInteger connections = new AtomicInteger();

    /** Starts the reactor thread and waits until its ring and buffers are ready; throws what stopped them. */
    public Reactor(String name, ReactorConfig config, BlockDevice... devices) throws IOException {
        this(name, config, Math.max(BlockEngine.DEFAULT_SLOTS, devices.length), devices);
    }

    /**
     * As {@link #Reactor(String, ReactorConfig, BlockDevice...)} with a fixed-file table of {@code slots} slots:
     * the devices take 0..n-1, devices attached later ({@link #attach}) the free ones.
     */
    public Reactor(String name, ReactorConfig config, int slots, BlockDevice... devices) throws IOException {
        this.engine = new BlockEngine(devices, slots);
        this.loop = new EventLoop(name, config, engine.ringSetupFlags(), engine);
    }

    public String name() { return loop.name(); }
    public ReactorConfig config() { return loop.config(); }
    public Thread thread() { return loop.thread(); }
    /** Whether its loop batches sleeps with min_wait (-Dsanport.uring.minWaitMicros and Linux >= 6.12). */
    public boolean batchedSleeps() { return loop.batchedSleeps(); }
    /** How many devices it was started with (slots 0..n-1). */
    public int deviceCount() { return engine.deviceCount(); }
    /** The device in fixed-file slot {@code index}, or null (read racily from other threads). */
    public BlockDevice device(int index) { return engine.device(index); }
    /** How many fixed-file slots the ring has: the most devices it drives at once. */
    public int deviceSlots() { return engine.slots(); }

    /**
     * Registers {@code device} in the empty fixed-file slot {@code index} of this reactor's ring, on the reactor
     * thread; requests for {@code index} run once the future completes. Any thread. The caller owns the device.
     */
    public CompletableFuture<Void> attach(int index, BlockDevice device) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        execute(() -> {
            try {
                engine.attach(index, device);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    /**
     * Takes the device out of slot {@code index}: from now on requests for it are refused
     * ({@link IoRequest.Refusal#NO_SUCH_DEVICE}); once those already in flight have completed, a writable device
     * is flushed through this ring, then the slot is emptied (the caller may close the device, and the slot may
     * be reused) and the future completes, exceptionally when that flush failed. Any thread.
     */
    public CompletableFuture<Void> detach(int index) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        BlockDevice device = engine.device(index);
        execute(() -> {
            try {
                engine.detach(index, result -> {
                    if (result < 0) {
                        done.completeExceptionally(new IOException("the flush of " + device.name()
                                + " before its removal failed on " + name() + ": "
                                + io.sanport.bindings.Errno.describe(-result)));
                    } else {
                        done.complete(null);
                    }
                });
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    /** Requests in flight on slot {@code index} now; reactor thread only (tests). */
    public int inflight(int index) { return engine.inflight(index); }

    /** The reactor's registered buffers; touch only on the reactor thread. */
    public BufferPool buffers() { return loop.buffers(); }

    /**
     * Slots for ring work in flight at once, shared by every kind (block I/O waits when they are taken); the
     * slots kept for connections ({@link #connectionRoom}) come on top.
     */
    public int capacity() { return loop.capacity(); }

    /**
     * Connections this reactor can serve with ring slots of their own (a receive and a send each): a transport
     * admits no more than that ({@link #tryAddConnection}).
     */
    public int connectionRoom() { return loop.connectionRoom(); }

    /** How many connections hold their slots on this reactor now. */
    public int connections() { return connections.get(); }

    /** Counts a new connection in, unless the reactor has no slots left for it; any thread. */
    public boolean tryAddConnection() {
        int room = loop.connectionRoom();
        while (true) {
            int n = connections.get();
            if (n >= room) {
                return false;
            }
            if (connections.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** A connection counted in by {@link #tryAddConnection} is gone (its operations are done); any thread. */
    public void removeConnection() {
        connections.decrementAndGet();
    }

    public int inflight() { return loop.inflight(); }
    /** How much ring work (block I/O and other operations) waits for a slot or an SQ entry now. */
    public int waiting() { return loop.waiting(); }
    public long completions() { return loop.completions(); }
    /** How much ring work ever had to wait for a slot or an SQ entry. */
    public long parked() { return loop.parked(); }
    public int ringSetupFlags() { return loop.ringSetupFlags(); }

    /** Nanoseconds since it started that its thread was not asleep waiting in io_uring_enter; any thread. */
    public long busyNanos() { return loop.busyNanos(); }

    /**
     * The time (System.nanoTime()) of this round of the reactor's loop, read once per round when its completions
     * are reaped: later than the completions it handles by at most the round's own work, and free for the I/O
     * path. Off the reactor thread, System.nanoTime().
     */
    public long clock() { return loop.clock(); }

    public boolean inReactor() {
        return loop.inLoop();
    }

    // ---------------------------------------------------------------- the reactor thread

    /**
     * Runs {@code request} on this reactor. Reactor thread only. The callback is always called exactly once,
     * later or, for a request refused by its checks, right away.
     */
    public void submit(IoRequest request) {
        engine.submit(request);
    }

    /**
     * Starts {@code op} on this ring (reactor thread only); it completes through its own
     * {@link RingOperation#complete}. Waits, in order with all other ring work, when no slot or SQ entry is free.
     */
    public void submit(RingOperation op) {
        loop.submit(op);
    }

    /**
     * Like {@link #submit(RingOperation)}, but the SQE is written at the end of this loop iteration, just before
     * the ring is entered: a send prepared then gathers every response completed during the iteration into one
     * system call. Reactor thread only.
     */
    public void submitDeferred(RingOperation op) {
        loop.submitDeferred(op);
    }

    /**
     * Runs {@code hook} once at the end of this loop iteration, before deferred work starts and the ring is
     * entered, so that work queued by several completions of one iteration leaves in one call (the RDMA
     * transport's {@code ibv_post_send} chains). Allocates nothing once warm. Reactor thread only.
     */
    public void atRoundEnd(Runnable hook) {
        loop.atRoundEnd(hook);
    }

    /**
     * Runs {@code hook} once, when this reactor has nothing to do and is about to sleep: an event source polled
     * while busy (an RDMA CQ) is armed then. The hook returns true when it found work after all, and the reactor
     * goes round again instead of sleeping. Allocates nothing once warm. Reactor thread only.
     */
    public void beforeSleep(BooleanSupplier hook) {
        loop.beforeSleep(hook);
    }

    /**
     * Cancels {@code op} (IORING_OP_ASYNC_CANCEL by its user_data): a long-lived operation such as a poll
     * completes with -ECANCELED, so a closing reactor need not wait for it. One that still waits for a slot is
     * just dropped. Reactor thread only. Returns whether a completion of {@code op} is still to come.
     */
    public boolean cancel(RingOperation op) {
        return loop.cancel(op);
    }

    // ---------------------------------------------------------------- any thread

    /** Runs {@code task} on the reactor thread. */
    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    /** Runs {@code fn} on the reactor thread and returns its result. */
    public <T> CompletableFuture<T> call(Function<Reactor, T> fn) {
        CompletableFuture<T> result = new CompletableFuture<>();
        execute(() -> {
            try {
                result.complete(fn.apply(this));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    /** Runs one request from any thread and waits for it (tests, control path; allocates). */
    public CompletableFuture<IoRequest> submitAsync(IoRequest request) {
        CompletableFuture<IoRequest> done = new CompletableFuture<>();
        request.callback(done::complete);
        execute(() -> submit(request));
        return done;
    }

    /**
     * Quiesces and frees: stops taking tasks from other threads, waits for every waiting and in-flight request
     * to complete (cancelling them after {@code timeout}), then releases the ring, buffers and eventfd.
     */
    public void close(long timeout, TimeUnit unit) throws IOException {
        loop.close(timeout, unit);
    }

    @Override
    public void close() throws IOException {
        close(30, TimeUnit.SECONDS);
    }

    public CompletableFuture<Void> terminated() {
        return loop.terminated();
    }

    @Override
    public String toString() {
        return loop.name();
    }
}
