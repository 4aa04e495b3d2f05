package io.sanport.hostdriver;

import io.sanport.iop.BufferPool;
import io.sanport.iop.Reactor;

/**
 * What the target keeps per reactor: which I/O processor it belongs to, its {@link LocalTransport}, its
 * {@link MemoryRegistry}, the requests of all its queues that wait for a pool buffer (oldest first), and the
 * run queue of requests whose data arrived while the core was on the stack. Reactor thread only.
 */
final class ReactorContext {
    final Reactor reactor;
    final int processor;
    final LocalTransport local;
    final MemoryRegistry memory;
    private Request head;
    private Request tail;
    long waits; // how many requests ever waited for a buffer
    // run queue: what a transport handed the core while the core was on the stack, run once it returns; a ring
    // of tasks and the queue each belongs to (an exception in a task ends that queue)
    private Runnable[] tasks = new Runnable[256];
    private QueuePair[] owners = new QueuePair[256];
    private int first;
    private int count;
    private int depth;
    private boolean draining;

    ReactorContext(Reactor reactor, int processor) {
        this.reactor = reactor;
        this.processor = processor;
        this.local = new RingLocalTransport(reactor, processor);
        this.memory = new MemoryRegistry(reactor.buffers());
    }

    BufferPool pool() {
        return reactor.buffers();
    }

    /** Whether someone is already waiting: a new request must queue behind them to keep the order. */
    boolean anyWaiting() {
        return head != null;
    }

    void park(Request r) {
        waits++;
        r.nextWaiting = null;
        if (tail == null) {
            head = r;
        } else {
            tail.nextWaiting = r;
        }
        tail = r;
    }

    /** Removes {@code r} wherever it waits (its queue is closing). */
    void unpark(Request r) {
        Request prev = null;
        for (Request w = head; w != null; prev = w, w = w.nextWaiting) {
            if (w == r) {
                if (prev == null) head = w.nextWaiting; else prev.nextWaiting = w.nextWaiting;
                if (tail == w) tail = prev;
                w.nextWaiting = null;
                return;
            }
        }
    }

    void enter() {
        depth++;
    }

    /**
     * Leaves a core call. The outermost one runs the run queue in order, each task as an outermost call of its
     * own (what it sets off runs inline), in the same loop iteration: no ring round trip.
     */
    void exit() {
        if (--depth > 0 || draining) {
            return;
        }
        draining = true;
        try {
            while (count > 0) {
                Runnable task = tasks[first];
                QueuePair owner = owners[first];
                tasks[first] = null;
                owners[first] = null;
                first = (first + 1) & (tasks.length - 1);
                count--;
                run(owner, task);
            }
        } finally {
            draining = false;
        }
    }

    /** Runs {@code owner}'s {@code task} now when the core is not on the stack, else right after it returns. */
    void runSoon(QueuePair owner, Runnable task) {
        if (depth == 0) {
            run(owner, task);
            return;
        }
        if (count == tasks.length) {
            grow();
        }
        int at = (first + count) & (tasks.length - 1);
        tasks[at] = task;
        owners[at] = owner;
        count++;
    }

    /** A task that throws ends its own queue, never the reactor. */
    private static void run(QueuePair owner, Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            owner.fault(null, e);
        }
    }

    private void grow() {
        Runnable[] t = new Runnable[tasks.length * 2];
        QueuePair[] o = new QueuePair[t.length];
        for (int i = 0; i < count; i++) {
            t[i] = tasks[(first + i) & (tasks.length - 1)];
            o[i] = owners[(first + i) & (tasks.length - 1)];
        }
        tasks = t;
        owners = o;
        first = 0;
    }

    /** Forgets {@code task} (its queue is closing). */
    void cancel(Runnable task) {
        int mask = tasks.length - 1;
        for (int i = 0; i < count; i++) {
            if (tasks[(first + i) & mask] == task) {
                for (int j = i; j < count - 1; j++) {
                    tasks[(first + j) & mask] = tasks[(first + j + 1) & mask];
                    owners[(first + j) & mask] = owners[(first + j + 1) & mask];
                }
                tasks[(first + count - 1) & mask] = null;
                owners[(first + count - 1) & mask] = null;
                count--;
                return;
            }
        }
    }

    /** Restarts waiting requests while buffers last; each takes its buffer in {@link QueuePair#process}. */
    void wakeWaiters() {
        while (head != null && pool().available() > 0) {
            Request r = head;
            head = r.nextWaiting;
            if (head == null) tail = null;
            r.nextWaiting = null;
            r.woken = true;
            r.queue.process(r);
        }
    }
}
