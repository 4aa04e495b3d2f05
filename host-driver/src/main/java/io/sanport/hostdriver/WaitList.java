package io.sanport.hostdriver;

/**
 * A FIFO of requests waiting on their reactor, linked through {@link Request#nextWaiting} so waiting allocates
 * nothing. Reactor thread only.
 */
final class WaitList {
    private Request head;
    private Request tail;

    boolean isEmpty() { return head == null; }

    Request first() { return head; }

    void add(Request r) {
        r.nextWaiting = null;
        if (tail == null) {
            head = r;
        } else {
            tail.nextWaiting = r;
        }
        tail = r;
    }

    /** Takes out {@code r}, whose predecessor is {@code prev} (null: {@code r} is the first). */
    void removeAfter(Request prev, Request r) {
        if (prev == null) head = r.nextWaiting; else prev.nextWaiting = r.nextWaiting;
        if (tail == r) tail = prev;
        r.nextWaiting = null;
    }

    /** Takes out {@code r} if it waits here. */
    boolean remove(Request r) {
        Request prev = null;
        for (Request w = head; w != null; prev = w, w = w.nextWaiting) {
            if (w == r) {
                removeAfter(prev, w);
                return true;
            }
        }
        return false;
    }
}
