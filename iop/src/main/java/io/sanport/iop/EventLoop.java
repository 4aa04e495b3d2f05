package io.sanport.iop;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.Native;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.uring.Liburing;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * A reactor's event loop: one thread that owns, alone, one io_uring ring, one buffer pool and one confined
 * arena (SPDK's poll group, Aeron's agent). Other threads talk to it only through {@link #execute}, which wakes
 * it through an eventfd that its ring always has a read posted on.
 *
 * <p>Every {@link RingWork} in flight holds a slot, its user_data. Slots are bounded by the CQ size, so the CQ
 * never overflows. Work of any kind that finds no free slot or no SQ entry waits in the one park queue, linked
 * through the work itself, and starts in submission order when a completion frees a slot: nothing is failed for
 * lack of a resource, and nothing overtakes what waited before it. Beyond those shared slots, two per connection
 * the reactor admits ({@link ReactorConfig#connections()}) are kept for connection operations (a socket's
 * receive and send, which may stay in flight as long as the peer is idle): they take one of those when they
 * can, so idle sockets never hold the slots block I/O needs.
 *
 * <p>Close quiesces: it stops taking tasks, lets everything parked and in flight complete, then unregisters and
 * frees the ring, the buffers and the eventfd, in that order.
 */
final class EventLoop implements Executor, CompletionQueue.Handler {
    private static final System.Logger LOG = System.getLogger("sanport.iop");
    private static final long WAKE = -1L;
    private static final long CANCEL = -2L;
    /**
     * Batched sleeps (Linux 6.12's min_wait): with 4 or more block I/Os in flight, the loop sleeps until half
     * of them (at most {@link #MIN_WAIT_BATCH}) complete, but once it has slept this many microseconds it wakes
     * with whatever has completed (or on the next completion), so one wake may answer several commands.
     * Anything else that completes meanwhile (a new command on a socket, a task's eventfd wake) waits up to
     * this long too. Fewer I/Os in flight (QD1): the loop wakes on the first completion as before. Off by
     * default: slower over TCP and no faster on a file image in bench/README.md's runs.
     * -Dsanport.uring.minWaitMicros=N; 0 turns it off.
     */
    static final int MIN_WAIT_MICROS = Math.max(0, Integer.getInteger("sanport.uring.minWaitMicros", 0));
    /** What loops started from now on use (read once, at start); tests set it. */
    static volatile int minWaitMicros = MIN_WAIT_MICROS;
    static final int MIN_WAIT_BATCH = 16;
    /** A batched sleep with no completion at all ends after this (-ETIME) and goes round again. */
    private static final long MIN_WAIT_TIMEOUT_NANOS = 1_000_000_000L;

    /** What else uses the ring, set up on the loop thread once the ring, slots and buffers exist. */
    @FunctionalInterface
    interface Setup {
        void start(EventLoop loop, Ring ring, Arena arena) throws IOException;
    }

    private final String name;
    private final ReactorConfig config;
    private final int requiredSetupFlags;
    private final Setup setup;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final CountDownLatch started = new CountDownLatch(1);
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile Throwable startFailure;
    private volatile boolean closing;
    private volatile int eventFd = -1;

    // confined to the loop thread from here on
    private Arena arena;
    private Ring ring;
    private SubmissionQueue sq;
    private CompletionQueue cq;
    private BufferPool pool;
    private MemorySegment wakeBuffer;
    private MemorySegment minWaitArg; // null: every sleep wakes on the first completion
    private RingWork[] slots; // by user_data
    private int[] freeSlots;
    private int freeTop;
    private int shared;           // slots [0, shared) for any work; [shared, slots.length) for connection operations
    private int[] connectionSlots;
    private int connectionTop;
    private int inflight;
    private RingWork parkHead;
    private RingWork parkTail;
    private int waiting;
    private RingWork[] deferred = new RingWork[16];
    private int deferredCount;
    private Runnable[] roundEnd = new Runnable[16];
    private int roundEndCount;
    private BooleanSupplier[] sleepHooks = new BooleanSupplier[16];
    private int sleepHookCount;
    private long completions;
    private long parked;
    // busy time: two clock reads per sleep, none per I/O; written by the loop, read by stats with opaque loads
    private long startedAt;
    private long idleNanos;   // time spent asleep in io_uring_enter, sleeps finished
    private long asleepSince; // when the current sleep began, 0 while awake
    private long roundAt;     // System.nanoTime() when this round's completions were reaped: the loop's clock

    /**
     * Starts the loop thread and waits until its ring (with {@code requiredSetupFlags}), buffers and
     * {@code setup} are ready; throws what stopped them.
     */
    EventLoop(String name, ReactorConfig config, int requiredSetupFlags, Setup setup) throws IOException {
        this.name = name;
        this.config = config;
        this.requiredSetupFlags = requiredSetupFlags;
        this.setup = setup;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
        try {
            started.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + name, e);
        }
        if (startFailure != null) {
            if (startFailure instanceof IOException io) throw io;
            if (startFailure instanceof RuntimeException re) throw re;
            throw new IOException(name + " failed to start", startFailure);
        }
    }

    String name() { return name; }
    ReactorConfig config() { return config; }
    Thread thread() { return thread; }
    BufferPool buffers() { return pool; }
    /** Slots shared by all ring work (block I/O parks when they are taken). */
    int capacity() { return shared; }
    /** Connections whose receive and send have slots of their own. */
    int connectionRoom() { return (slots.length - shared) / 2; }
    int inflight() { return inflight; }
    int waiting() { return waiting; }
    long completions() { return completions; }
    long parked() { return parked; }
    int ringSetupFlags() { return ring.setupFlags(); }
    /** Whether sleeps are batched with min_wait (the knob is on and the kernel has it). */
    boolean batchedSleeps() { return minWaitArg != null; }

    /**
     * Nanoseconds since the loop started that it did not spend asleep in io_uring_enter waiting for a completion:
     * its busy time. Any thread (racy: it may lag a sleep that just ended).
     */
    long busyNanos() {
        long start = (long) STARTED_AT.getOpaque(this);
        if (start == 0) {
            return 0;
        }
        long now = System.nanoTime();
        long idle = (long) IDLE_NANOS.getOpaque(this);
        long since = (long) ASLEEP_SINCE.getOpaque(this);
        if (since != 0) {
            idle += Math.max(0, now - since);
        }
        // a read racing the end of a sleep may see it twice: never report less than before (it is a counter)
        return busyReported.accumulateAndGet(now - start - idle, Math::max);
    }

    private final java.util.concurrent.atomic.AtomicLong busyReported = new java.util.concurrent.atomic.AtomicLong();

    private static final java.lang.invoke.VarHandle STARTED_AT;
    private static final java.lang.invoke.VarHandle IDLE_NANOS;
    private static final java.lang.invoke.VarHandle ASLEEP_SINCE;

    static {
        try {
            var l = java.lang.invoke.MethodHandles.lookup();
            STARTED_AT = l.findVarHandle(EventLoop.class, "startedAt", long.class);
            IDLE_NANOS = l.findVarHandle(EventLoop.class, "idleNanos", long.class);
            ASLEEP_SINCE = l.findVarHandle(EventLoop.class, "asleepSince", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    CompletableFuture<Void> terminated() { return terminated; }

    /**
     * The loop's clock: System.nanoTime() read once per round, when that round's completions are about to be
     * reaped (the wake-up's own read after a sleep), so everything the round handles shares one read. On another
     * thread, the time now.
     */
    long clock() {
        return Thread.currentThread() == thread ? roundAt : System.nanoTime();
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    // ---------------------------------------------------------------- the loop thread

    private void run() {
        try {
            init();
        } catch (Throwable t) {
            startFailure = t;
            teardown();
            started.countDown();
            terminated.complete(null);
            return;
        }
        roundAt = System.nanoTime();
        STARTED_AT.setOpaque(this, roundAt);
        started.countDown();
        try {
            loop();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, name + " stopped on an unexpected error", t);
        } finally {
            teardown();
            terminated.complete(null);
        }
    }

    private void init() throws IOException {
        arena = Arena.ofConfined();
        int want = 2 * config.ringEntries() + 2 * config.connections(); // CQ: shared slots + wake + 2 per connection
        int cqEntries = Math.min(Integer.highestOneBit(want - 1) << 1, 65536);
        ring = Ring.open(arena, config.ringEntries(), cqEntries, requiredSetupFlags);
        sq = ring.sq();
        cq = ring.cq();
        // one CQ entry stays for the wake read; a clamped CQ leaves fewer connection slots, never fewer shared ones
        int capacity = Math.min(2 * sq.entries() - 1, cq.entries() - 1);
        int reserved = Math.max(0, Math.min(2 * config.connections(), cq.entries() - 1 - capacity)) & ~1;
        shared = capacity;
        slots = new RingWork[capacity + reserved];
        freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        freeTop = capacity;
        connectionSlots = new int[reserved];
        for (int i = 0; i < reserved; i++) {
            connectionSlots[i] = capacity + reserved - 1 - i;
        }
        connectionTop = reserved;
        MemoryLock.ensure(config.bufferBytes());
        pool = BufferPool.map(config.bufferSize(), config.bufferCount());
        ring.registerBuffer(pool.region(), arena);
        setup.start(this, ring, arena);
        eventFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        wakeBuffer = arena.allocate(ValueLayout.JAVA_LONG);
        int minWait = minWaitMicros;
        if (minWait > 0 && ring.hasMinWait()) {
            minWaitArg = Ring.minWaitArg(arena, minWait, MIN_WAIT_TIMEOUT_NANOS);
        }
        armWake();
    }

    private void armWake() {
        if (!sq.prepReadFd(eventFd, wakeBuffer.address(), 8, WAKE)) {
            ring.submit();
            sq.prepReadFd(eventFd, wakeBuffer.address(), 8, WAKE);
        }
    }

    private void loop() {
        while (true) {
            runTasks();
            runRoundEnd();
            if (closing && inflight == 0 && parkHead == null && deferredCount == 0 && tasks.isEmpty()) {
                return;
            }
            startDeferred();
            int rc;
            boolean slept = false;
            if (!tasks.isEmpty() || cq.ready() > 0) {
                rc = ring.submitAndGetEvents();
            } else if (sleepHookCount > 0 && runBeforeSleep()) {
                rc = ring.submitAndGetEvents(); // a hook found work: round again before sleeping
            } else {
                sleeping.set(true);
                if (!tasks.isEmpty()) {
                    sleeping.setRelease(false);
                    rc = ring.submitAndGetEvents();
                } else {
                    long t0 = System.nanoTime();
                    ASLEEP_SINCE.setOpaque(this, t0);
                    int batch = minWaitArg == null ? 1 : Math.min((shared - freeTop) / 2, MIN_WAIT_BATCH);
                    rc = batch > 1 ? ring.submitAndWaitMin(batch, minWaitArg) : ring.submitAndWait(1);
                    sleeping.setRelease(false);
                    long t1 = System.nanoTime();
                    slept = true;
                    // idle before awake: a stats read in between counts the sleep at most twice, never as busy
                    IDLE_NANOS.setOpaque(this, idleNanos + (t1 - t0));
                    ASLEEP_SINCE.setOpaque(this, 0L);
                    roundAt = t1;
                }
            }
            if (!slept) {
                roundAt = System.nanoTime();
            }
            if (rc < 0 && rc != -Errno.EINTR && rc != -Errno.EAGAIN && rc != -Errno.EBUSY && rc != -Errno.ETIME) {
                throw new IllegalStateException(name + ": io_uring_submit: " + Errno.describe(-rc));
            }
            cq.reap(this);
            startParked();
        }
    }

    private void runTasks() {
        for (int n = 0; n < 1024; n++) {
            Runnable task = tasks.poll();
            if (task == null) {
                return;
            }
            try {
                task.run();
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, name + ": a task failed", t);
            }
        }
    }

    /** One CQE, or an offloaded completion posted back as a task. Loop thread. */
    @Override
    public void complete(long userData, int res, int flags) {
        if (userData >= 0) {
            int slot = (int) userData;
            RingWork work = slots[slot];
            if ((flags & Liburing.IORING_CQE_F_MORE) == 0) {
                release(slot); // before the callback, which may submit again
            }
            work.complete(res, flags);
        } else if (userData == WAKE) {
            armWake();
        }
        // CANCEL and anything else: nothing to do
    }

    private void release(int slot) {
        slots[slot] = null;
        if (slot < shared) {
            freeSlots[freeTop++] = slot;
        } else {
            connectionSlots[connectionTop++] = slot;
        }
        inflight--;
        completions++;
    }

    /**
     * Starts {@code work}, or parks it behind whatever already waits when no slot or SQ entry is free. Loop
     * thread only.
     */
    void submit(RingWork work) {
        if (work.connectionSlot && connectionTop > 0 && startConnection(work)) {
            return; // a slot of its own: it waits for nothing
        }
        if (parkHead != null || freeTop == 0 || !start(work)) {
            park(work);
        }
    }

    private void park(RingWork work) {
        work.next = null;
        parked++;
        waiting++;
        if (parkTail == null) {
            parkHead = work;
        } else {
            parkTail.next = work;
        }
        parkTail = work;
    }

    /** Takes a slot and an SQ entry for {@code work}; false when the SQ is full even after a submit. */
    private boolean start(RingWork work) {
        int slot = freeSlots[freeTop - 1];
        if (!work.prep(sq, slot)) {
            ring.submit(); // the SQ is full of entries not yet handed over
            if (!work.prep(sq, slot)) {
                return false;
            }
        }
        freeTop--;
        slots[slot] = work;
        inflight++;
        return true;
    }

    private boolean startConnection(RingWork work) {
        int slot = connectionSlots[connectionTop - 1];
        if (!work.prep(sq, slot)) {
            ring.submit();
            if (!work.prep(sq, slot)) {
                return false;
            }
        }
        connectionTop--;
        slots[slot] = work;
        inflight++;
        return true;
    }

    /** Starts parked work, oldest first, while slots and SQ entries last. */
    private void startParked() {
        while (parkHead != null && freeTop > 0) {
            RingWork work = parkHead;
            if (!start(work)) {
                return;
            }
            parkHead = work.next;
            work.next = null;
            if (parkHead == null) {
                parkTail = null;
            }
            waiting--;
        }
    }

    /**
     * Cancels {@code work}: in flight, by IORING_OP_ASYNC_CANCEL on its user_data, so a long-lived operation
     * such as a poll completes with -ECANCELED; parked, by dropping it. Returns whether a completion of
     * {@code work} is still to come. Loop thread only.
     */
    boolean cancel(RingWork work) {
        for (int slot = 0; slot < slots.length; slot++) {
            if (slots[slot] == work) {
                if (!sq.prepCancel(slot, CANCEL)) {
                    ring.submit();
                    sq.prepCancel(slot, CANCEL);
                }
                return true;
            }
        }
        RingWork prev = null;
        for (RingWork w = parkHead; w != null; prev = w, w = w.next) {
            if (w == work) {
                if (prev == null) parkHead = w.next; else prev.next = w.next;
                if (parkTail == w) parkTail = prev;
                w.next = null;
                waiting--;
                return false;
            }
        }
        return false;
    }

    /** Like {@link #submit}, but started at the end of this loop iteration, just before the ring is entered. */
    void submitDeferred(RingWork work) {
        if (deferredCount == deferred.length) {
            deferred = Arrays.copyOf(deferred, deferredCount * 2);
        }
        deferred[deferredCount++] = work;
    }

    /**
     * Runs {@code hook} once at the end of this loop iteration, after the tasks and before deferred work starts
     * and the ring is entered: what the iteration's completions queued (an RDMA send queue's posts) goes out in
     * one call. A hook added while the hooks run runs at the end of the next iteration. Loop thread only.
     */
    void atRoundEnd(Runnable hook) {
        if (roundEndCount == roundEnd.length) {
            roundEnd = Arrays.copyOf(roundEnd, roundEndCount * 2);
        }
        roundEnd[roundEndCount++] = hook;
    }

    /**
     * Runs {@code hook} once, when the loop has nothing to do and is about to sleep in the ring: the moment to
     * arm an event source that was polled while busy (an RDMA CQ). A hook returns true when it found work after
     * all; then the loop enters the ring without sleeping and goes round again. Loop thread only.
     */
    void beforeSleep(BooleanSupplier hook) {
        if (sleepHookCount == sleepHooks.length) {
            sleepHooks = Arrays.copyOf(sleepHooks, sleepHookCount * 2);
        }
        sleepHooks[sleepHookCount++] = hook;
    }

    private void runRoundEnd() {
        int n = roundEndCount;
        for (int i = 0; i < n; i++) {
            Runnable hook = roundEnd[i];
            roundEnd[i] = null;
            try {
                hook.run();
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, name + ": a round-end hook failed", t);
            }
        }
        roundEndCount = compact(roundEnd, n, roundEndCount);
    }

    /** Runs the hooks waiting for the loop to sleep; true when one of them found work. */
    private boolean runBeforeSleep() {
        int n = sleepHookCount;
        boolean busy = false;
        for (int i = 0; i < n; i++) {
            BooleanSupplier hook = sleepHooks[i];
            sleepHooks[i] = null;
            try {
                busy |= hook.getAsBoolean();
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, name + ": a before-sleep hook failed", t);
            }
        }
        sleepHookCount = compact(sleepHooks, n, sleepHookCount);
        return busy;
    }

    /** Moves the entries [ran, count) that were added while the first {@code ran} ran to the front. */
    private static int compact(Object[] hooks, int ran, int count) {
        if (count > ran) {
            System.arraycopy(hooks, ran, hooks, 0, count - ran);
            Arrays.fill(hooks, count - ran, count, null);
        }
        return count - ran;
    }

    private void startDeferred() {
        for (int i = 0; i < deferredCount; i++) {
            RingWork work = deferred[i];
            deferred[i] = null;
            submit(work);
        }
        deferredCount = 0;
    }

    // ---------------------------------------------------------------- any thread

    /** Runs {@code task} on the loop thread; refused once closing begins, unless from the loop itself. */
    @Override
    public void execute(Runnable task) {
        if (terminated.isDone() || (closing && !inLoop())) {
            throw new RejectedExecutionException(name + " is " + (terminated.isDone() ? "closed" : "closing"));
        }
        tasks.add(task);
        if (!inLoop()) {
            if (terminated.isDone() && tasks.remove(task)) {
                throw new RejectedExecutionException(name + " is closed"); // it drained and exited meanwhile
            }
            wake();
        }
    }

    /**
     * Posts the completion of work that ran off the loop (an offloaded blocking call) back to it; accepted while
     * closing too, since the loop waits for that work's slot.
     */
    void post(Runnable completion) {
        tasks.add(completion);
        wake();
    }

    private void wake() {
        if (sleeping.compareAndSet(true, false)) {
            synchronized (sleeping) { // teardown closes the eventfd under the same lock: never write a reused fd
                int fd = eventFd;
                if (fd < 0) {
                    return;
                }
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment one = a.allocate(ValueLayout.JAVA_LONG);
                    one.set(ValueLayout.JAVA_LONG, 0, 1L);
                    Libc.write(fd, one, a.allocate(Native.CAPTURE_LAYOUT));
                }
            }
        }
    }

    /**
     * Quiesces and frees: stops taking tasks from other threads, waits for all parked and in-flight work to
     * complete (cancelling it after {@code timeout}), then releases the ring, buffers and eventfd.
     */
    void close(long timeout, TimeUnit unit) throws IOException {
        if (inLoop()) {
            throw new IllegalStateException("a reactor cannot close itself from its own thread");
        }
        closing = true;
        tasks.add(() -> { });
        sleeping.set(true);
        wake();
        try {
            if (!awaitTermination(timeout, unit)) {
                tasks.add(() -> {
                    if (sq.prepCancelAll(CANCEL)) {
                        ring.submit();
                    }
                });
                sleeping.set(true);
                wake();
                if (!awaitTermination(timeout, unit)) {
                    throw new IOException(name + ": " + inflight + " I/Os still in flight after cancel; leaving it");
                }
            }
            thread.join(unit.toMillis(timeout)); // its last act after freeing everything is to end
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while closing " + name, e);
        }
    }

    private boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            terminated.get(timeout, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    private void teardown() {
        try {
            if (ring != null) ring.close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": closing the ring", e);
        }
        try {
            if (pool != null) pool.close();
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": unmapping buffers", e);
        }
        synchronized (sleeping) {
            try {
                if (eventFd >= 0) Libc.close(eventFd);
            } catch (ErrnoException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": closing the eventfd", e);
            }
            eventFd = -1;
        }
        if (arena != null) arena.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
