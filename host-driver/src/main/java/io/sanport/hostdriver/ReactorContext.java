package io.sanport.hostdriver;

import io.sanport.iop.BufferPool;
import io.sanport.iop.Reactor;

/**
 * What the target keeps per reactor: which I/O processor it belongs to (to find a namespace's device index in
 * its ring) and the requests of all its queues that wait for a pool buffer, oldest first. Reactor thread only.
 */
final class ReactorContext {
    final Reactor reactor;
    final int processor;
    private Request head;
    private Request tail;
    long waits; // how many requests ever waited for a buffer

    ReactorContext(Reactor reactor, int processor) {
        this.reactor = reactor;
        this.processor = processor;
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
