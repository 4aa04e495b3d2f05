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
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * One thread that owns, alone, one io_uring ring, one buffer pool and one confined arena, and runs every
 * request it is given to completion on that thread (SPDK's poll group, Aeron's agent). Other threads talk to
 * it only through {@link #execute}, which wakes it through an eventfd that its ring always has a read posted on.
 *
 * <p>Back-pressure: a request that finds no free slot (bounded by the CQ size) or no SQ entry waits in a FIFO
 * linked through the requests themselves, and is started when a completion frees a slot.
 *
 * <p>Close quiesces: it stops taking tasks, lets everything waiting and in flight complete, then unregisters
 * and frees the ring, the buffers and the eventfd, in that order.
 */
public final class Reactor implements Executor, CompletionQueue.Handler, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("sanport.iop");
    private static final long WAKE = -1L;
    private static final long CANCEL = -2L;

    private final String name;
    private final ReactorConfig config;
    private final BlockDevice[] devices;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final CountDownLatch started = new CountDownLatch(1);
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile Throwable startFailure;
    private volatile boolean closing;
    private volatile int eventFd = -1;

    // confined to the reactor thread from here on
    private Arena arena;
    private Ring ring;
    private SubmissionQueue sq;
    private CompletionQueue cq;
    private BufferPool pool;
    private MemorySegment wakeBuffer;
    private long commandScratch; // 16 bytes per slot for NvmeCommandDevice commands (DSM ranges), else 0
    private Object[] slots; // IoRequest or RingOperation, by user_data
    private int[] freeSlots;
    private int freeTop;
    private int inflight;
    private IoRequest waitHead;
    private IoRequest waitTail;
    private RingOperation opHead;
    private RingOperation opTail;
    private RingOperation[] deferred = new RingOperation[16];
    private int deferredCount;
    private int waiting;
    private long completions;
    private long parked;

    /** Starts the reactor thread and waits until its ring and buffers are ready; throws what stopped them. */
    public Reactor(String name, ReactorConfig config, BlockDevice... devices) throws IOException {
        this.name = name;
        this.config = config;
        this.devices = devices.clone();
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

    public String name() { return name; }
    public ReactorConfig config() { return config; }
    public Thread thread() { return thread; }
    public int deviceCount() { return devices.length; }
    public BlockDevice device(int index) { return devices[index]; }

    /** The reactor's registered buffers; touch only on the reactor thread. */
    public BufferPool buffers() {
        return pool;
    }

    /** Slots for requests in flight at once. */
    public int capacity() {
        return slots.length;
    }

    public int inflight() { return inflight; }
    public int waiting() { return waiting; }
    public long completions() { return completions; }
    /** How many requests ever had to wait for a slot or an SQ entry. */
    public long parked() { return parked; }
    public int ringSetupFlags() { return ring.setupFlags(); }

    public boolean inReactor() {
        return Thread.currentThread() == thread;
    }

    // ---------------------------------------------------------------- the reactor thread

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
        int required = 0;
        for (BlockDevice d : devices) {
            if (d instanceof NvmeCommandDevice n) {
                required |= n.ringSetupFlags();
            }
        }
        ring = Ring.open(arena, config.ringEntries(), required);
        sq = ring.sq();
        cq = ring.cq();
        int capacity = Math.min(cq.entries() - 1, 4 * sq.entries()); // one CQ entry stays for the wake read
        slots = new Object[capacity];
        freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        freeTop = capacity;
        if (required != 0) {
            commandScratch = arena.allocate(16L * capacity, 16).address();
        }
        MemoryLock.ensure(config.bufferBytes());
        pool = BufferPool.map(config.bufferSize(), config.bufferCount());
        ring.registerBuffer(pool.region(), arena);
        if (devices.length > 0) {
            int[] fds = new int[devices.length];
            for (int i = 0; i < fds.length; i++) {
                fds[i] = devices[i].fd();
            }
            ring.registerFiles(fds, arena);
        }
        eventFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        wakeBuffer = arena.allocate(ValueLayout.JAVA_LONG);
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
            if (closing && inflight == 0 && waitHead == null && opHead == null && deferredCount == 0 && tasks.isEmpty()) {
                return;
            }
            startDeferred();
            int rc;
            if (!tasks.isEmpty() || cq.ready() > 0) {
                rc = ring.submitAndGetEvents();
            } else {
                sleeping.set(true);
                if (!tasks.isEmpty()) {
                    sleeping.setRelease(false);
                    rc = ring.submitAndGetEvents();
                } else {
                    rc = ring.submitAndWait(1);
                    sleeping.setRelease(false);
                }
            }
            if (rc < 0 && rc != -Errno.EINTR && rc != -Errno.EAGAIN && rc != -Errno.EBUSY && rc != -Errno.ETIME) {
                throw new IllegalStateException(name + ": io_uring_submit: " + Errno.describe(-rc));
            }
            cq.reap(this);
            startWaiting();
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

    @Override
    public void complete(long userData, int res, int flags) {
        if (userData >= 0) {
            int slot = (int) userData;
            Object o = slots[slot];
            if (o instanceof IoRequest r) {
                release(slot);
                r.result = devices[r.device] instanceof NvmeCommandDevice n ? n.result(r, res) : res;
                r.callback.ioComplete(r);
            } else {
                RingOperation op = (RingOperation) o;
                if ((flags & Liburing.IORING_CQE_F_MORE) == 0) {
                    release(slot);
                }
                op.complete(res, flags);
            }
        } else if (userData == WAKE) {
            {
                armWake();
            }
        }
        // CANCEL and anything else: nothing to do
    }


    private void release(int slot) {
        slots[slot] = null;
        freeSlots[freeTop++] = slot;
        inflight--;
        completions++;
    }

    /**
     * Starts {@code op} on this ring (reactor thread only); it completes through its own
     * {@link RingOperation#complete}. Waits, in order, when no slot or SQ entry is free.
     */
    public void submit(RingOperation op) {
        if (opHead != null || freeTop == 0 || !start(op)) {
            op.next = null;
            parked++;
            if (opTail == null) {
                opHead = op;
            } else {
                opTail.next = op;
            }
            opTail = op;
        }
    }

    /**
     * Cancels {@code op} (IORING_OP_ASYNC_CANCEL by its user_data): a long-lived operation such as a poll
     * completes with -ECANCELED, so a closing reactor need not wait for it. One that still waits for a slot is
     * just dropped. Reactor thread only. Returns whether a completion of {@code op} is still to come.
     */
    public boolean cancel(RingOperation op) {
        for (int slot = 0; slot < slots.length; slot++) {
            if (slots[slot] == op) {
                if (!sq.prepCancel(slot, CANCEL)) {
                    ring.submit();
                    sq.prepCancel(slot, CANCEL);
                }
                return true;
            }
        }
        RingOperation prev = null;
        for (RingOperation o = opHead; o != null; prev = o, o = o.next) {
            if (o == op) {
                if (prev == null) opHead = o.next; else prev.next = o.next;
                if (opTail == o) opTail = prev;
                o.next = null;
                return false;
            }
        }
        return false;
    }

    /**
     * Like {@link #submit(RingOperation)}, but the SQE is written at the end of this loop iteration, just before
     * the ring is entered: a send prepared then gathers every response completed during the iteration into one
     * system call. Reactor thread only.
     */
    public void submitDeferred(RingOperation op) {
        if (deferredCount == deferred.length) {
            deferred = java.util.Arrays.copyOf(deferred, deferredCount * 2);
        }
        deferred[deferredCount++] = op;
    }

    private void startDeferred() {
        for (int i = 0; i < deferredCount; i++) {
            RingOperation op = deferred[i];
            deferred[i] = null;
            submit(op);
        }
        deferredCount = 0;
    }

    private boolean start(RingOperation op) {
        int slot = freeSlots[freeTop - 1];
        if (!op.prep(sq, slot)) {
            ring.submit();
            if (!op.prep(sq, slot)) {
                return false;
            }
        }
        freeTop--;
        slots[slot] = op;
        inflight++;
        return true;
    }

    /** Starts parked requests, oldest first, while slots and SQ entries last. */
    private void startWaiting() {
        while (opHead != null && freeTop > 0) {
            RingOperation op = opHead;
            if (!start(op)) {
                return;
            }
            opHead = op.next;
            op.next = null;
            if (opHead == null) {
                opTail = null;
            }
        }
        while (waitHead != null && freeTop > 0) {
            IoRequest r = waitHead;
            if (!start(r)) {
                return;
            }
            waitHead = r.next;
            r.next = null;
            if (waitHead == null) {
                waitTail = null;
            }
            waiting--;
        }
    }

    /**
     * Runs {@code request} on this reactor. Reactor thread only. The callback is always called exactly once,
     * later or, for a request refused by its checks, right away.
     */
    public void submit(IoRequest request) {
        if (!check(request)) {
            request.callback.ioComplete(request);
            return;
        }
        if (waitHead != null || freeTop == 0 || !start(request)) {
            park(request);
        }
    }

    private void park(IoRequest r) {
        parked++;
        waiting++;
        r.next = null;
        if (waitTail == null) {
            waitHead = r;
        } else {
            waitTail.next = r;
        }
        waitTail = r;
    }

    /** The checks every request passes before it reaches the device; fills refusal and result on failure. */
    private boolean check(IoRequest r) {
        IoRequest.Refusal refusal = refusal(r);
        if (refusal == IoRequest.Refusal.NONE) {
            return true;
        }
        r.refusal = refusal;
        r.result = switch (refusal) {
            case READ_ONLY -> -Errno.EROFS;
            case NOT_SUPPORTED -> -Errno.EOPNOTSUPP;
            case SHUT_DOWN -> -Errno.ECANCELED;
            default -> -Errno.EINVAL;
        };
        return false;
    }

    private IoRequest.Refusal refusal(IoRequest r) {
        if (r.device < 0 || r.device >= devices.length) {
            return IoRequest.Refusal.NO_SUCH_DEVICE;
        }
        BlockDevice d = devices[r.device];
        byte op = r.op;
        if (op == IoRequest.FLUSH) {
            return IoRequest.Refusal.NONE;
        }
        if (op != IoRequest.READ && d.readOnly()) {
            return IoRequest.Refusal.READ_ONLY;
        }
        long mask = d.logicalBlockSize() - 1;
        if ((r.offset & mask) != 0 || r.offset < 0) {
            return IoRequest.Refusal.MISALIGNED_OFFSET;
        }
        if ((r.length & mask) != 0 || r.length <= 0 || (op <= IoRequest.WRITE && r.length > Integer.MAX_VALUE)) {
            return IoRequest.Refusal.MISALIGNED_LENGTH;
        }
        if (r.offset + r.length > d.size() || r.offset + r.length < 0) {
            return IoRequest.Refusal.OUT_OF_RANGE;
        }
        if (op <= IoRequest.WRITE) {
            if (d.directIo() && (r.address & mask) != 0) {
                return IoRequest.Refusal.MISALIGNED_BUFFER;
            }
        } else if ((op == IoRequest.DISCARD && !d.supportsDiscard())
                || (op == IoRequest.WRITE_ZEROES && !d.supportsWriteZeroes())) {
            return IoRequest.Refusal.NOT_SUPPORTED;
        }
        return IoRequest.Refusal.NONE;
    }

    /** Takes a slot and an SQ entry for {@code r}; false when the SQ is full even after a submit. */
    private boolean start(IoRequest r) {
        int slot = freeSlots[freeTop - 1];
        if (!prep(r, slot)) {
            ring.submit(); // the SQ is full of entries not yet handed over
            if (!prep(r, slot)) {
                return false;
            }
        }
        freeTop--;
        slots[slot] = r;
        inflight++;
        return true;
    }

    private boolean prep(IoRequest r, int slot) {
        int file = r.device;
        if (devices[file] instanceof NvmeCommandDevice n) {
            if (n.needsOffload(r)) {
                offload(r, slot, r.op == IoRequest.DISCARD);
                return true;
            }
            return n.prep(sq, r, file, r.op <= IoRequest.WRITE && pool.contains(r.address, r.length),
                    commandScratch + 16L * slot, slot);
        }
        switch (r.op) {
            case IoRequest.READ:
                return pool.contains(r.address, r.length)
                        ? sq.prepReadFixed(file, r.address, (int) r.length, r.offset, 0, slot)
                        : sq.prepRead(file, r.address, (int) r.length, r.offset, slot);
            case IoRequest.WRITE: {
                int flags = r.fua ? Libc.RWF_DSYNC : 0;
                return pool.contains(r.address, r.length)
                        ? sq.prepWriteFixed(file, r.address, (int) r.length, r.offset, flags, 0, slot)
                        : sq.prepWrite(file, r.address, (int) r.length, r.offset, flags, slot);
            }
            case IoRequest.FLUSH:
                return sq.prepFdatasync(file, slot);
            default: {
                boolean discard = r.op == IoRequest.DISCARD;
                int mode = devices[file].fallocateMode(discard);
                if (mode >= 0) {
                    return sq.prepFallocate(file, mode, r.offset, r.length, slot);
                }
                offload(r, slot, discard);
                return true;
            }
        }
    }

    /** A blocking device call on the offload threads; its completion comes back through the task queue. */
    private void offload(IoRequest r, int slot, boolean discard) {
        BlockDevice d = devices[r.device];
        long offset = r.offset;
        long length = r.length;
        Offload.EXECUTOR.execute(() -> {
            int res;
            try {
                if (discard) d.discard(offset, length); else d.writeZeroes(offset, length);
                res = 0;
            } catch (ErrnoException e) {
                res = -e.errno();
            } catch (IOException | RuntimeException e) {
                res = -Errno.EIO;
            }
            int result = res;
            tasks.add(() -> complete(slot, result, 0));
            wake();
        });
    }

    // ---------------------------------------------------------------- any thread

    /** Runs {@code task} on the reactor thread. */
    @Override
    public void execute(Runnable task) {
        if (terminated.isDone() || (closing && !inReactor())) {
            throw new RejectedExecutionException(name + " is " + (terminated.isDone() ? "closed" : "closing"));
        }
        tasks.add(task);
        if (!inReactor()) {
            if (terminated.isDone() && tasks.remove(task)) {
                throw new RejectedExecutionException(name + " is closed"); // it drained and exited meanwhile
            }
            wake();
        }
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
     * Quiesces and frees: stops taking tasks from other threads, waits for every waiting and in-flight request
     * to complete (cancelling them after {@code timeout}), then releases the ring, buffers and eventfd.
     */
    public void close(long timeout, TimeUnit unit) throws IOException {
        if (inReactor()) {
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
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        close(30, TimeUnit.SECONDS);
    }

    public CompletableFuture<Void> terminated() {
        return terminated;
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
