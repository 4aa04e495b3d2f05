package io.sanport.transport.rdma;

import io.sanport.hostdriver.ConnectionLimits;
import io.sanport.hostdriver.RateLimitedLog;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Queues RDMA CM accepted whose host has not completed a fabrics Connect yet. Each holds a QP, request slots
 * and send-queue entries of its reactor's shared CQ from rdma_accept on, so a host that opens connections and
 * never sends a Connect could keep a reactor's CQ full (every later host refused with NO_RSC) or fill its queue
 * slots. Three bounds:
 * <ul>
 *   <li>each such queue is ended once its Connect timeout passes, counted from the accept (which also covers a
 *       host that never completes the CM handshake);</li>
 *   <li>one host address may hold at most {@link Limits#maxPendingPerHost} of them at once: the conductor refuses
 *       more with NO_RSC;</li>
 *   <li>together they may hold at most {@link #SHARE_PERCENT} % of a reactor's CQ budget ({@link #makeRoom}), so
 *       many addresses, each under its own cap, cannot fill a CQ either. When the share is full, the oldest of
 *       them that had {@link #GRACE_DIVISOR a tenth} of the timeout are ended to make room for the new one.</li>
 * </ul>
 *
 * <p>The conductor adds, checks and expires; a queue counts until it connects (seen at the next expiry) or is
 * destroyed. Synchronized: cheap on the connection path, and tests drive it from their own thread.
 */
final class PendingQueues {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");
    /**
     * Share of a reactor's CQ budget queues without a Connect may hold. Half: the other half is always left to
     * queues that connected, so a flood of CM connects from any number of addresses cannot take the entries a
     * working host's queues need, while the share still takes a Linux host setting up dozens of I/O queues at once.
     */
    static final int SHARE_PERCENT = 50;
    /**
     * When the share is full, a pending queue older than timeout / 10 (1 s by default) is ended for a new one. A
     * host sends its Connect within milliseconds of ESTABLISHED (Linux sets up all its I/O queues' QPs one after
     * the other, then connects them: well under a second on real hardware), so what waits longer while others
     * queue for room is most likely not a host at all. Oldest first: a flood cannot push out the queue that just
     * got in, and the one that waited longest has shown the least sign of life.
     */
    static final int GRACE_DIVISOR = 10;
    private static final RateLimitedLog ENDED = new RateLimitedLog(LOG, 1000);

    /**
     * @param connectTimeoutMillis how long an accepted queue may go without a fabrics Connect
     *                             ({@link ConnectionLimits#connectTimeoutMillis()}, default 10 s)
     * @param maxPendingPerHost    queues without a Connect one host address may hold
     *                             ({@link ConnectionLimits#maxPendingPerHost()}, default 129)
     */
    record Limits(long connectTimeoutMillis, int maxPendingPerHost) {
        Limits {
            if (connectTimeoutMillis <= 0 || maxPendingPerHost <= 0) {
                throw new IllegalArgumentException("bad NVMe/RDMA limits: Connect timeout " + connectTimeoutMillis
                        + " ms, " + maxPendingPerHost + " pending queues per host");
            }
        }

        /** What the target's connection limits say. */
        static Limits of(ConnectionLimits limits) {
            return new Limits(limits.connectTimeoutMillis(), limits.maxPendingPerHost());
        }
    }

    /** One queue without a Connect: when it was accepted, and whether it was told to go (then it holds no share). */
    private static final class Pending {
        final long accepted;
        boolean told;

        Pending(long accepted) {
            this.accepted = accepted;
        }
    }

    private final Limits limits;
    private final long timeoutNanos;
    private final long graceNanos;
    /** Each pending queue, in the order they were accepted. */
    private final Map<RdmaQueue, Pending> pending = new LinkedHashMap<>();
    private final Map<String, Integer> perHost = new HashMap<>();
    /** CQ entries held by pending queues not told to go yet, per reactor. */
    private final Map<RdmaReactor, Integer> held = new IdentityHashMap<>();

    PendingQueues(Limits limits) {
        this.limits = limits;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(limits.connectTimeoutMillis());
        this.graceNanos = timeoutNanos / GRACE_DIVISOR;
    }

    Limits limits() {
        return limits;
    }

    /** Whether a CONNECT_REQUEST from {@code peer} may have a queue: its pending ones are below the cap. */
    synchronized boolean admits(String peer) {
        return pending(peer) < limits.maxPendingPerHost();
    }

    /** Queues from {@code peer} without a Connect yet. */
    synchronized int pending(String peer) {
        return perHost.getOrDefault(peer, 0);
    }

    /** CQ entries of {@code rr} that pending queues hold, not counting those told to go. */
    synchronized int held(RdmaReactor rr) {
        return held.getOrDefault(rr, 0);
    }

    /** The most CQ entries of {@code rr} pending queues may hold. */
    static int share(RdmaReactor rr) {
        return (int) ((long) rr.cqEntriesForQueues() * SHARE_PERCENT / 100);
    }

    /**
     * Whether a new queue may take {@code entries} CQ entries of {@code rr} within the pending share; when it is
     * full, ends the oldest pending queues of {@code rr} past the grace until there is room (those go through the
     * usual teardown and give their entries back within moments). False when nothing old enough can go.
     */
    synchronized boolean makeRoom(RdmaReactor rr, int entries, long now) {
        forgetConnected();
        int share = share(rr);
        for (Iterator<Map.Entry<RdmaQueue, Pending>> it = pending.entrySet().iterator();
             it.hasNext() && held(rr) + entries > share; ) {
            Map.Entry<RdmaQueue, Pending> e = it.next();
            RdmaQueue q = e.getKey();
            Pending p = e.getValue();
            if (q.rr == rr && !p.told && now - p.accepted >= graceNanos) {
                tell(q, p, () -> "its reactor's share of CQ entries for queues without a Connect is full and it "
                        + "had none after " + TimeUnit.NANOSECONDS.toMillis(now - p.accepted) + " ms");
            }
        }
        return held(rr) + entries <= share;
    }

    /** {@code q} was accepted at {@code now} (System.nanoTime). */
    synchronized void add(RdmaQueue q, long now) {
        if (pending.putIfAbsent(q, new Pending(now)) == null) {
            perHost.merge(q.peer(), 1, Integer::sum);
            held.merge(q.rr, q.sendDepth, Integer::sum);
        }
    }

    /** {@code q} is destroyed: it no longer counts. */
    synchronized void remove(RdmaQueue q) {
        Pending p = pending.remove(q);
        if (p != null) {
            forget(q, p);
        }
    }

    /**
     * Forgets the queues whose Connect succeeded and tells those past their deadline to go (once; they count
     * against their host until destroyed, as they hold their resources until then). Returns how many it told to go.
     */
    synchronized int expire(long now) {
        forgetConnected();
        int ended = 0;
        for (Map.Entry<RdmaQueue, Pending> e : pending.entrySet()) {
            Pending p = e.getValue();
            if (!p.told && now - p.accepted >= timeoutNanos) {
                tell(e.getKey(), p, () -> "no fabrics Connect within " + limits.connectTimeoutMillis() + " ms");
                ended++;
            }
        }
        return ended;
    }

    private void forgetConnected() {
        for (Iterator<Map.Entry<RdmaQueue, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<RdmaQueue, Pending> e = it.next();
            if (e.getKey().connected()) {
                it.remove();
                forget(e.getKey(), e.getValue());
            }
        }
    }

    /** Ends {@code q} on its reactor, unless its Connect comes first; its CQ entries leave the share now. */
    private void tell(RdmaQueue q, Pending p, java.util.function.Supplier<String> why) {
        p.told = true;
        release(q);
        ENDED.warn(() -> "ending " + q + ": " + why.get());
        try {
            q.reactor.execute(() -> q.run(q::connectTimedOut));
        } catch (RejectedExecutionException ex) {
            // the reactor is closing: the queue goes with it
        }
    }

    private void forget(RdmaQueue q, Pending p) {
        perHost.computeIfPresent(q.peer(), (k, n) -> n > 1 ? n - 1 : null);
        if (!p.told) {
            release(q);
        }
    }

    private void release(RdmaQueue q) {
        held.computeIfPresent(q.rr, (k, n) -> n > q.sendDepth ? n - q.sendDepth : null);
    }
}
