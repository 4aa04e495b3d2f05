package io.sanport.transport.tcp;

import io.sanport.hostdriver.ConnectionLimits;
import io.sanport.hostdriver.Target;
import io.sanport.iop.Reactor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One target's NVMe/TCP connections as a whole: admission against its {@link ConnectionLimits} (in total, per
 * host address, and no more on a reactor than its ring keeps slots for), and the sweep that ends connections
 * whose host owes a step for too long (ICReq, Connect, H2CData, a C2HTermReq stuck behind a blocked send). The
 * sweep runs on each reactor's own thread over the connections living there, so it shares nothing with them.
 */
final class TcpConnections {
    private static final System.Logger LOG = System.getLogger("sanport.tcp");
    /** One timer thread for every target's sweeps and accept back-offs: it only posts tasks to reactors. */
    static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sanport-tcp-timer");
        t.setDaemon(true);
        return t;
    });
    private static final long REFUSAL_LOG_NANOS = TimeUnit.SECONDS.toNanos(10);

    final ConnectionLimits limits;
    private final List<Reactor> reactors;
    private final Map<Reactor, Sweep> sweeps = new IdentityHashMap<>();
    /** I/O queues (Connect with QID > 0) living on each reactor; the map is filled once, the counts change. */
    private final Map<Reactor, AtomicInteger> ioQueues = new IdentityHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final Map<Integer, Integer> byAddress = new ConcurrentHashMap<>();
    private int listeners;                 // under this
    private ScheduledFuture<?> tick;       // under this
    // the accepting reactor's thread only: refusals are logged at most once per REFUSAL_LOG_NANOS
    private long lastRefusalLog = System.nanoTime() - REFUSAL_LOG_NANOS;
    private long refusalsNotLogged;

    /** Holds no reference to {@code target}: it is the value of a weak map keyed by it. */
    TcpConnections(Target target) {
        this.limits = target.options().limits();
        this.reactors = List.copyOf(target.reactors());
        for (Reactor r : reactors) {
            sweeps.put(r, new Sweep(r));
            ioQueues.put(r, new AtomicInteger());
        }
    }

    /**
     * Where a new connection goes: {@code preferred} (the round-robin one) unless another reactor has fewer I/O
     * queues. Round robin alone counts admin queues too, so two hosts that each open an admin and one I/O queue
     * (admin, I/O, admin, I/O) would put both I/O queues on the second of two reactors. A host's admin queue
     * is up (its Connect counted) before it connects its I/O queues, so the count sees them in time.
     */
    Reactor leastLoaded(Reactor preferred) {
        AtomicInteger mine = ioQueues.get(preferred);
        if (mine == null) {
            return preferred; // not one of this target's reactors: nothing to compare with
        }
        int start = reactors.indexOf(preferred);
        Reactor best = preferred;
        int fewest = mine.get();
        for (int i = 1; i < reactors.size() && fewest > 0; i++) {
            Reactor r = reactors.get((start + i) % reactors.size());
            int n = ioQueues.get(r).get();
            if (n < fewest) {
                best = r;
                fewest = n;
            }
        }
        return best;
    }

    /** A connection on {@code reactor} became an I/O queue. Its reactor's thread. */
    void ioQueueUp(Reactor reactor) {
        ioQueues.get(reactor).incrementAndGet();
    }

    /** An I/O queue counted by {@link #ioQueueUp} is gone. */
    void ioQueueDown(Reactor reactor) {
        ioQueues.get(reactor).decrementAndGet();
    }

    /** I/O queues on {@code reactor} now (tests). */
    int ioQueues(Reactor reactor) {
        return ioQueues.get(reactor).get();
    }

    /** Connections alive now (tests, stats). */
    int count() {
        return total.get();
    }

    /**
     * Admits a connection from {@code address} (IPv4, host order) and picks its reactor: the one with the fewest
     * I/O queues, the round-robin one ({@code preferred}) among equals ({@link #leastLoaded}), or, when that one
     * has no connection slots left, the next that has. Null when a cap
     * is reached: the caller closes the socket. Accepting reactor only.
     */
    Reactor admit(int address, String peer, Reactor preferred) {
        if (total.incrementAndGet() > limits.maxConnections()) {
            total.decrementAndGet();
            refused(peer, "the target holds its maximum of " + limits.maxConnections() + " connections");
            return null;
        }
        if (byAddress.merge(address, 1, Integer::sum) > limits.maxConnectionsPerHost()) {
            releaseAddress(address);
            total.decrementAndGet();
            refused(peer, "that address holds its maximum of " + limits.maxConnectionsPerHost() + " connections");
            return null;
        }
        Reactor r = leastLoaded(preferred);
        if (!r.tryAddConnection()) {
            r = null;
            for (Reactor other : reactors) {
                if (other.tryAddConnection()) {
                    r = other;
                    break;
                }
            }
        }
        if (r == null) {
            releaseAddress(address);
            total.decrementAndGet();
            refused(peer, "no reactor has ring slots left for another connection");
            return null;
        }
        return r;
    }

    /** A connection {@link #admit}ted on {@code reactor} is gone. Any thread. */
    void release(Reactor reactor, int address) {
        reactor.removeConnection();
        releaseAddress(address);
        total.decrementAndGet();
    }

    private void releaseAddress(int address) {
        byAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
    }

    private void refused(String peer, String why) {
        long now = System.nanoTime();
        if (now - lastRefusalLog < REFUSAL_LOG_NANOS) {
            refusalsNotLogged++;
            return;
        }
        long more = refusalsNotLogged;
        refusalsNotLogged = 0;
        lastRefusalLog = now;
        LOG.log(System.Logger.Level.WARNING, "closed a new NVMe/TCP connection from " + peer + ": " + why
                + (more > 0 ? " (" + more + " more refused since the last report)" : ""));
    }

    /** The sweep of {@code reactor}, where its connections register. */
    Sweep sweep(Reactor reactor) {
        return sweeps.get(reactor);
    }

    /** A listener opened: the sweep runs while any is open. */
    synchronized void listenerOpened() {
        if (listeners++ == 0) {
            long shortest = Math.min(Math.min(limits.icReqTimeoutMillis(), limits.connectTimeoutMillis()),
                    Math.min(limits.dataTimeoutMillis(), limits.termTimeoutMillis()));
            long period = Math.clamp(shortest / 4, 10, 1000); // a timeout fires at most a quarter late
            tick = TIMER.scheduleAtFixedRate(this::tick, period, period, TimeUnit.MILLISECONDS);
        }
    }

    synchronized void listenerClosed() {
        if (--listeners == 0 && tick != null) {
            tick.cancel(false);
            tick = null;
        }
    }

    private void tick() {
        for (Sweep s : sweeps.values()) {
            s.post();
        }
    }

    /**
     * One reactor's connections of this target, linked through the connections themselves (no allocation per
     * connection), and the sweep over them. Reactor thread only, except {@link #post}.
     */
    static final class Sweep implements Runnable {
        private final Reactor reactor;
        private final AtomicBoolean posted = new AtomicBoolean();
        private TcpConnection head;

        Sweep(Reactor reactor) {
            this.reactor = reactor;
        }

        void add(TcpConnection c) {
            c.nextLive = head;
            c.prevLive = null;
            if (head != null) {
                head.prevLive = c;
            }
            head = c;
        }

        void remove(TcpConnection c) {
            if (c.prevLive != null) {
                c.prevLive.nextLive = c.nextLive;
            } else if (head == c) {
                head = c.nextLive;
            }
            if (c.nextLive != null) {
                c.nextLive.prevLive = c.prevLive;
            }
            c.prevLive = null;
            c.nextLive = null;
        }

        /** The connections living on this reactor now (tests, stats; allocates). Reactor thread only. */
        List<TcpConnection> live() {
            List<TcpConnection> all = new java.util.ArrayList<>();
            for (TcpConnection c = head; c != null; c = c.nextLive) {
                all.add(c);
            }
            return all;
        }

        /** Timer thread: runs the sweep on the reactor, once, however late the reactor is. */
        void post() {
            if (posted.compareAndSet(false, true)) {
                try {
                    reactor.execute(this);
                } catch (RejectedExecutionException e) {
                    posted.set(false); // the reactor is closing
                }
            }
        }

        @Override
        public void run() {
            posted.set(false);
            long now = System.nanoTime();
            for (TcpConnection c = head; c != null; ) {
                TcpConnection next = c.nextLive; // a timeout may unlink c
                c.checkTimeouts(now);
                c = next;
            }
        }
    }
}
