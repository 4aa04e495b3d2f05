package io.sanport.hostdriver;

import io.sanport.iop.BufferPool;
import io.sanport.iop.Reactor;
import java.util.HashMap;
import java.util.Map;

/**
 * What the target keeps per reactor: which I/O processor it belongs to, its {@link LocalTransport}, its
 * {@link MemoryRegistry}, the requests of all its queues that wait for a pool buffer (oldest first), and the
 * run queue of requests whose data arrived while the core was on the stack. Reactor thread only.
 *
 * <p>Host-paced buffers: a buffer taken for data the host has still to send (R2T + H2CData, RDMA READ) comes
 * back when the host decides, so hosts that never send would pin the whole pool and starve every read (SPDK's
 * shared pool per poll group has the same exposure; nvmet allocates per command). At most
 * {@link TargetOptions#hostPacedLimit} of the pool, and {@link TargetOptions#hostPacedPerController} per
 * controller, are host-paced at once. One host address holds at most {@link TargetOptions#hostPacedPerHost} buffers
 * whose release waits on it ({@link HostShare}): its host-paced writes and its reads, whose buffers go back only
 * when the host reads the data (one that never reads its socket would keep them), so opening more controllers or
 * connections gains a host nothing. A request over a limit waits in a second FIFO, so the reads and in-capsule
 * writes behind it in the first one go on; a freed buffer goes to whichever eligible waiter of the two parked
 * first.
 */
final class ReactorContext {
    final Reactor reactor;
    final int processor;
    final LocalTransport local;
    final MemoryRegistry memory;
    final int index; // among the target's reactor contexts: where a controller counts its host-paced buffers here
    private final int hostPacedLimit;
    private final int hostPacedPerController;
    private final int hostPacedPerHost;
    private final Map<String, HostShare> hosts = new HashMap<>();
    private int hostPaced; // buffers held now for data the host has still to send
    private final WaitList waiting = new WaitList();
    private final WaitList pacedWaiting = new WaitList(); // host-paced requests waiting for a buffer or for their quota
    private Request pacedPrev; // the one before what firstAllowedHostPaced found (null: it is the head)
    private boolean pacedMayGo; // false once a scan found no waiter the quotas let go; set when a count drops
    private long parks;
    long waits; // how many requests ever waited for a buffer
    private int parked; // how many wait now, in either FIFO (read by stats)
    final ReactorStats stats = new ReactorStats();
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
        this.hostPacedPerHost = options.hostPacedPerHost();
        this.local = new RingLocalTransport(reactor, processor);
        this.memory = new MemoryRegistry(reactor.buffers());
    }

    private static final java.lang.invoke.VarHandle WAITS;
    private static final java.lang.invoke.VarHandle PARKED;

    static {
        try {
            var l = java.lang.invoke.MethodHandles.lookup();
            WAITS = l.findVarHandle(ReactorContext.class, "waits", long.class);
            PARKED = l.findVarHandle(ReactorContext.class, "parked", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link #waits} read from another thread (stats). */
    long waitsOpaque() {
        return (long) WAITS.getOpaque(this);
    }

    /** Requests waiting for a buffer now, read from another thread (stats). */
    int parkedOpaque() {
        return (int) PARKED.getOpaque(this);
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

    /** The share of host {@code address} on this reactor for one more queue pair (null address: none). */
    HostShare joinHost(String address) {
        if (address == null) {
            return null;
        }
        HostShare h = hosts.computeIfAbsent(address, HostShare::new);
        h.queues++;
        return h;
    }

    /** A queue pair of {@code h} is gone: the share goes with its last one. */
    void leaveHost(HostShare h) {
        if (h != null && --h.queues == 0) {
            hosts.remove(h.address);
        }
    }

    /** Whether the quotas let {@code r}'s buffer be host-paced now. */
    boolean hostPacedAllowed(Request r) {
        if (hostPaced >= hostPacedLimit) {
            return false;
        }
        Controller c = r.queue.controller();
        return (c == null || c.hostPaced[index] < hostPacedPerController) && hostAllows(r);
    }

    /** Whether {@code r}'s host may hold one more buffer whose release waits on it (a read's, a host-paced one). */
    boolean hostAllows(Request r) {
        HostShare h = r.queue.host;
        return h == null || h.held < hostPacedPerHost;
    }

    /** Whether {@code r} may take a buffer now as the quotas see it: host-paced writes and reads are counted. */
    private boolean allowed(Request r) {
        return r.hostToController ? hostPacedAllowed(r) : hostAllows(r);
    }

    /** {@code r} took a buffer its host has still to fill: count it until the data is in or the request goes. */
    void startHostPaced(Request r) {
        Controller c = r.queue.controller();
        hostPaced++;
        if (c != null) {
            c.hostPaced[index]++;
        }
        HostShare h = r.queue.host;
        if (h != null) {
            h.held++;
        }
        r.pacedOn = c;
        r.hostPaced = true;
    }

    /** The read {@code r} took a buffer that comes back once its host has taken the data: count it till then. */
    void startHostHeld(Request r) {
        HostShare h = r.queue.host;
        if (h != null) {
            h.held++;
            r.hostHeld = true;
        }
    }

    /** {@code r}'s buffer no longer waits for its host; true when it was counted (a waiter may go now). */
    boolean endHostPaced(Request r) {
        HostShare h = r.queue.host;
        if (r.hostPaced) {
            r.hostPaced = false;
            hostPaced--;
            if (r.pacedOn != null) {
                r.pacedOn.hostPaced[index]--;
                r.pacedOn = null;
            }
            if (h != null) {
                h.held--;
            }
            pacedMayGo = true;
            return true;
        }
        if (!r.hostHeld) {
            return false;
        }
        r.hostHeld = false;
        // a read's end matters only to its own host's waiters, and only when the host was at its cap: most reads
        // end without a scan of the waiters
        if (h.held-- >= hostPacedPerHost) {
            pacedMayGo = true;
            return true;
        }
        return false;
    }

    void park(Request r) {
        waits++;
        parked++;
        r.parkedAt = parks++;
        waiting.add(r);
    }

    /** Parks a host-paced request: it waits for a buffer or for its quotas, without holding up the other FIFO. */
    void parkHostPaced(Request r) {
        waits++;
        parked++;
        r.parkedAt = parks++;
        pacedWaiting.add(r);
        pacedMayGo = true;
    }

    /** Removes {@code r} wherever it waits (its queue is closing). */
    void unpark(Request r) {
        if (waiting.remove(r) || pacedWaiting.remove(r)) {
            parked--;
        }
    }

    /**
     * The oldest waiter of the second FIFO the quotas let go (its predecessor in {@link #pacedPrev}), or null.
     * Waiters of a controller or a host address at its cap are passed over, so one host cannot hold up the others
     * (a read waits only for its host's share, not for the reactor's host-paced one); a scan that finds none is not
     * repeated until a count drops or a waiter parks.
     */
    private Request firstAllowedHostPaced() {
        if (pacedWaiting.isEmpty() || !pacedMayGo) {
            return null;
        }
        Request prev = null;
        for (Request w = pacedWaiting.first(); w != null; prev = w, w = w.nextWaiting) {
            if (allowed(w)) {
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
            parked--;
            r.woken = true;
            r.queue.process(r);
        }
    }
}
