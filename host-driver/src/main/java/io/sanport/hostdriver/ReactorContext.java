package io.sanport.hostdriver;

import io.sanport.iop.BufferPool;
import io.sanport.iop.Reactor;
import java.util.ArrayDeque;

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
    // run queue: what a transport handed the core while the core was on the stack, run once it returns
    private final ArrayDeque<Runnable> runQueue = new ArrayDeque<>(256);
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
            Runnable task;
            while ((task = runQueue.pollFirst()) != null) {
                task.run();
            }
        } finally {
            draining = false;
        }
    }

    /** Runs {@code task} now when the core is not on the stack, else right after it returns. */
    void runSoon(Runnable task) {
        if (depth == 0) {
            task.run();
        } else {
            runQueue.addLast(task);
        }
    }

    /** Forgets {@code task} (its queue is closing). */
    void cancel(Runnable task) {
        runQueue.removeFirstOccurrence(task);
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
