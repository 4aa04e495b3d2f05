package io.sanport.client;

import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The host side of one NVMe-oF queue pair, whatever carries it: what {@link RemoteController} needs from a
 * transport (the client's {@code nvme_rdma_queue} / {@code nvme_tcp_queue} cut). A queue of N entries owns N
 * {@link CommandSlot}s; a command is acquired, its SQE filled by the caller, then submitted or executed.
 * Implementations: {@link NvmeTcpQueue}, {@link NvmeRdmaQueue}.
 * <p>
 * What both share lives here: the slots and their free list (a lock-free stack; a lock only parks a submitter that
 * finds all N slots in flight), submit/execute on top of the transport's {@link #send}, and completing a slot once
 * (callback or waiting submitter). No allocation per command.
 */
abstract sealed class NvmeQueue implements AutoCloseable permits NvmeTcpQueue, NvmeRdmaQueue {
    private static final VarHandle FREE_TOP;

    static {
        try {
            FREE_TOP = MethodHandles.lookup().findVarHandle(NvmeQueue.class, "freeTop", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The queue's N command slots, filled (and pushed free) by the transport's constructor. */
    final CommandSlot[] slots;
    /** The thread callbacks run on, for messages: "reader", "completion". */
    private final String completionThreadRole;
    /**
     * Free slots: a stack linked through {@link CommandSlot#nextFree}; top = version << 32 | (index + 1), 0 in the
     * low half when empty. The version, bumped by every push and pop, keeps a pop from succeeding on a top that was
     * popped and pushed back meanwhile (ABA).
     */
    @SuppressWarnings("unused") // via FREE_TOP
    private volatile long freeTop;
    /** Submitters parked for a free slot; releases signal only when there are any. */
    private volatile int freeWaiters;
    private final ReentrantLock freeLock = new ReentrantLock();
    private final Condition slotFreed = freeLock.newCondition();

    NvmeQueue(int size, String completionThreadRole) {
        this.slots = new CommandSlot[size];
        this.completionThreadRole = completionThreadRole;
    }

    /** Queue ID: 0 admin, 1.. I/O. */
    abstract int qid();

    /** The thread that completes commands (a blocking command there would deadlock), or null before it exists. */
    abstract Thread completionThread();

    /** Hands a PREPARED slot (callback or waiter set) to the transport; a failure completes it. */
    abstract void send(CommandSlot slot);

    /** {@link #execute} saw no completion in time: end the queue so the command fails. */
    abstract void timedOut(CommandSlot slot, long timeoutMillis);

    /** The transport's share of completing {@code slot}, after it won the race and before its callback or waiter. */
    abstract void completing(CommandSlot slot);

    /** A free slot, waiting while all N are in flight (commands park for a slot, they are never failed for one). */
    final CommandSlot acquire(String name) throws IOException {
        CommandSlot slot = popFree();
        if (slot == null) {
            slot = awaitFree();
        }
        slot.prepare(name);
        return slot;
    }

    private CommandSlot awaitFree() throws InterruptedIOException {
        freeLock.lock();
        try {
            freeWaiters++;
            CommandSlot slot;
            // a release pushes, then looks at freeWaiters: it saw ours, or we see its slot
            while ((slot = popFree()) == null) {
                slotFreed.await();
            }
            return slot;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a free command slot on queue " + qid());
        } finally {
            freeWaiters--;
            freeLock.unlock();
        }
    }

    private CommandSlot popFree() {
        while (true) {
            long top = (long) FREE_TOP.getVolatile(this);
            int index = (int) top - 1;
            if (index < 0) {
                return null;
            }
            CommandSlot slot = slots[index];
            // nextFree may be stale if the slot was taken meanwhile; then the version changed and the CAS fails
            long next = (top & 0xFFFF_FFFF_0000_0000L) + (1L << 32) | slot.nextFree;
            if (FREE_TOP.compareAndSet(this, top, next)) {
                return slot;
            }
        }
    }

    final void pushFree(CommandSlot slot) {
        while (true) {
            long top = (long) FREE_TOP.getVolatile(this);
            slot.nextFree = (int) top;
            if (FREE_TOP.compareAndSet(this, top, (top & 0xFFFF_FFFF_0000_0000L) + (1L << 32) | (slot.index + 1))) {
                return;
            }
        }
    }

    /** A free slot or null (keep-alive: skip a beat rather than wait). */
    final CommandSlot tryAcquire(String name) {
        CommandSlot slot = popFree();
        if (slot != null) {
            slot.prepare(name);
        }
        return slot;
    }

    /** Returns a slot that was acquired but never submitted (the submitter failed to build its command). */
    final void cancel(CommandSlot slot) {
        if (slot.state() == CommandSlot.PREPARED) {
            release(slot);
        }
    }

    final void release(CommandSlot slot) {
        slot.clear();
        slot.state(CommandSlot.FREE);
        pushFree(slot);
        if (freeWaiters > 0) {
            freeLock.lock();
            try {
                slotFreed.signal();
            } finally {
                freeLock.unlock();
            }
        }
    }

    /** Sends the command; {@code callback} runs once on the queue's completion thread, failures included. */
    final void submit(CommandSlot slot, IoCallback callback) {
        slot.callback = callback;
        send(slot);
    }

    /**
     * Sends the command and waits for it.
     *
     * @return CQE DW1:DW0
     * @throws NvmeException          non-zero status
     * @throws NvmeTransportException the queue failed, or no completion within {@code timeoutMillis}, which
     *                                ends the queue as a Linux host's timeout does (error recovery)
     */
    final long execute(CommandSlot slot, long timeoutMillis) throws IOException {
        if (Thread.currentThread() == completionThread()) {
            throw new IllegalStateException("blocking command on the " + completionThreadRole + " thread of queue "
                    + qid() + " would deadlock");
        }
        slot.waiter = Thread.currentThread();
        send(slot);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (slot.state() != CommandSlot.DONE) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                timedOut(slot, timeoutMillis);
                deadline = Long.MAX_VALUE; // the failing queue completes it
                continue;
            }
            LockSupport.parkNanos(this, left);
        }
        int status = slot.statusWord;
        long result = slot.result;
        Throwable failed = slot.failure;
        String name = slot.name;
        release(slot);
        if (failed != null) {
            throw new NvmeTransportException(failed.getMessage(), failed);
        }
        if (!Status.isSuccess(status)) {
            throw new NvmeException(name, status, (int) result);
        }
        return result;
    }

    /**
     * Builds a command ({@code fill} writes its SQE; the slot's CID is kept), attaches {@code data} if any, and
     * executes it: the admin commands, Connects and Property Get/Set, which are not worth a prepared form.
     *
     * @return CQE DW1:DW0
     */
    final long execute(String name, Consumer<MemorySegment> fill, MemorySegment data, boolean toController,
                       long timeoutMillis) throws IOException {
        CommandSlot slot = acquire(name);
        try {
            fill.accept(slot.sqe);
            SubmissionQueueEntry.cid(slot.sqe, slot.cid);
            if (data != null) {
                slot.data(data, toController);
            }
        } catch (RuntimeException e) {
            cancel(slot);
            throw e;
        }
        return execute(slot, timeoutMillis);
    }

    /**
     * Completes a command once, if it is still in state {@code from}: callbacks get the slot back in the free list
     * first, so they may submit again; a waiting submitter is unparked.
     */
    final void complete(CommandSlot slot, int from, int statusWord, long result, Throwable failed) {
        if (!slot.transition(from, CommandSlot.COMPLETING)) {
            return;
        }
        completing(slot);
        IoCallback callback = slot.callback;
        if (callback != null) {
            release(slot);
            try {
                callback.complete(statusWord, result, failed);
            } catch (Throwable t) {
                Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), t);
            }
        } else {
            Thread waiter = slot.waiter;
            slot.statusWord = statusWord;
            slot.result = result;
            slot.failure = failed;
            slot.state(CommandSlot.DONE);
            LockSupport.unpark(waiter);
        }
    }

    /** Fails every command still in flight with {@code cause} (the queue ended and its completer stopped). */
    final void failInFlight(Throwable cause) {
        for (CommandSlot slot : slots) {
            if (slot.state() == CommandSlot.IN_FLIGHT) {
                complete(slot, CommandSlot.IN_FLIGHT, 0, 0, cause);
            }
        }
    }

    /** Largest write carried inside the capsule (I/O queues: IOCCSZ x 16 - 64). */
    abstract void inCapsuleMax(long bytes);

    abstract boolean isFailed();

    /** Why the queue ended, or null. */
    abstract NvmeTransportException failure();

    /** Ends the queue; every command in flight fails with {@code cause}. Idempotent. */
    abstract void fail(NvmeTransportException cause);

    /** Payload bytes the queue copied between the caller's buffers and its own (staging, bounce). */
    abstract long payloadBytesCopied();

    /** Tears the queue down; commands still in flight fail. */
    @Override
    public abstract void close();
}
