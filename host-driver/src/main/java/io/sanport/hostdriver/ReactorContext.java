package io.sanport.hostdriver;

import io.sanport.iop.BufferPool;
import io.sanport.iop.Reactor;

/**
 * What the target keeps per reactor: which I/O processor it belongs to, its {@link LocalTransport}, its
 * {@link MemoryRegistry}, the requests of all its queues that wait for a pool buffer (oldest first), and the
 * run queue of requests whose data arrived while the core was on the stack. Reactor thread only.
 *
 * <p>Host-paced buffers: a buffer taken for data the host has still to send (R2T + H2CData, RDMA READ) comes
 * back when the host decides, so hosts that never send would pin the whole pool and starve every read (SPDK's
 * shared pool per poll group has the same exposure; nvmet allocates per command). At most
 * {@link TargetOptions#hostPacedLimit} of the pool, and {@link TargetOptions#hostPacedPerController} per
 * controller, are host-paced at once. A request over a limit waits in a second FIFO, so the reads and
 * in-capsule writes behind it in the first one go on; a freed buffer goes to whichever eligible waiter of the two
 * parked first.
 */
final class ReactorContext {
    final Reactor reactor;
    final int processor;
    final LocalTransport local;
    final MemoryRegistry memory;
    final int index; // among the target's reactor contexts: where a controller counts its host-paced buffers here
    private final int hostPacedLimit;
    private final int hostPacedPerController;
    private int hostPaced; // buffers held now for data the host has still to send
    private final WaitList waiting = new WaitList();
    private final WaitList pacedWaiting = new WaitList(); // host-paced requests waiting for a buffer or for their quota
    private Request pacedPrev; // the one before what firstAllowedHostPaced found (null: it is the head)
    private boolean pacedMayGo; // false once a scan found no waiter the quotas let go; set when a count drops
    private long parks;
    long waits; // how many requests ever waited for a buffer
    // run queue: what a transport handed the core while the core was on the stack, run once it returns; a ring
    // of tasks and the queue each belongs to (an exception in a task ends that queue)
    private Runnable[] tasks = new Runnable[256];
    private QueuePair[] owners = new QueuePair[256];
    private int first;
    private int count;
    private int depth;
    private boolean draining;

    ReactorContext(Reactor reactor, int processor, int index, TargetOptions options) {
        this.reactor = reactor;
        this.processor = processor;
        this.index = index;
        this.hostPacedLimit = options.hostPacedLimit(reactor.buffers().capacity());
        this.hostPacedPerController = options.hostPacedPerController();
        this.local = new RingLocalTransport(reactor, processor);
        this.memory = new MemoryRegistry(reactor.buffers());
    }

    BufferPool pool() {
        return reactor.buffers();
    }

    /**
     * Whether someone is already waiting for a buffer in the FIFO of requests that need no host data: a new
     * request must queue behind them to keep the order. (A host-paced waiter that its quotas let go while a
     * buffer is free does not exist: every count that drops wakes it.)
     */
    boolean anyWaiting() {
        return !waiting.isEmpty();
    }

    /** Whether the quotas let {@code r}'s buffer be host-paced now. */
    boolean hostPacedAllowed(Request r) {
        if (hostPaced >= hostPacedLimit) {
            return false;
        }
        Controller c = r.queue.controller();
        return c == null || c.hostPaced[index] < hostPacedPerController;
    }

    /** {@code r} took a buffer its host has still to fill: count it until the data is in or the request goes. */
    void startHostPaced(Request r) {
        Controller c = r.queue.controller();
        hostPaced++;
        if (c != null) {
            c.hostPaced[index]++;
        }
        r.pacedOn = c;
        r.hostPaced = true;
    }

    /** {@code r}'s buffer no longer waits for its host; true when it was counted (a waiter may go now). */
    boolean endHostPaced(Request r) {
        if (!r.hostPaced) {
            return false;
        }
        r.hostPaced = false;
        hostPaced--;
        if (r.pacedOn != null) {
            r.pacedOn.hostPaced[index]--;
            r.pacedOn = null;
        }
        pacedMayGo = true;
        return true;
    }

    void park(Request r) {
        waits++;
        r.parkedAt = parks++;
        waiting.add(r);
    }

    /** Parks a host-paced request: it waits for a buffer or for its quotas, without holding up the other FIFO. */
    void parkHostPaced(Request r) {
        waits++;
        r.parkedAt = parks++;
        pacedWaiting.add(r);
        pacedMayGo = true;
    }

    /** Removes {@code r} wherever it waits (its queue is closing). */
    void unpark(Request r) {
        if (!waiting.remove(r)) {
            pacedWaiting.remove(r);
        }
    }

    /**
     * The oldest host-paced waiter the quotas let go (its predecessor in {@link #pacedPrev}), or null. Waiters of a
     * controller at its cap are passed over, so one host cannot hold up the others; a scan that finds none is not
     * repeated until a count drops or a waiter parks.
     */
    private Request firstAllowedHostPaced() {
        if (pacedWaiting.isEmpty() || !pacedMayGo || hostPaced >= hostPacedLimit) {
            return null;
        }
        Request prev = null;
        for (Request w = pacedWaiting.first(); w != null; prev = w, w = w.nextWaiting) {
            if (hostPacedAllowed(w)) {
                pacedPrev = prev;
                return w;
            }
        }
        pacedMayGo = false;
        return null;
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

    /**
     * Restarts waiting requests while buffers last, from either FIFO the one that parked first (host-paced ones
     * only as their quotas allow); each takes its buffer in {@link QueuePair#process}.
     */
    void wakeWaiters() {
        while (pool().available() > 0) {
            Request paced = firstAllowedHostPaced();
            Request r;
            Request plain = waiting.first();
            if (plain != null && (paced == null || plain.parkedAt < paced.parkedAt)) {
                r = plain;
                waiting.removeAfter(null, r);
            } else if (paced != null) {
                r = paced;
                pacedWaiting.removeAfter(pacedPrev, r);
            } else {
                return;
            }
            r.woken = true;
            r.queue.process(r);
        }
    }
}
