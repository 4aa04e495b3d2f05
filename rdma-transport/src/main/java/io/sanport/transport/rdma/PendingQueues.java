package io.sanport.transport.rdma;

import io.sanport.hostdriver.Controller;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Queues RDMA CM accepted whose host has not completed a fabrics Connect yet. Each holds a QP, request slots
 * and send-queue entries of its reactor's shared CQ from rdma_accept on, so a host that opens connections and
 * never sends a Connect could keep a reactor's CQ full (every later host refused with NO_RSC) or fill its queue
 * slots. Here each such queue is ended once its Connect timeout passes, counted from the accept (which also
 * covers a host that never completes the CM handshake), and one host address may hold at most
 * {@link Limits#maxPendingPerHost} of them at once: the conductor refuses more with NO_RSC.
 *
 * <p>The conductor adds, checks and expires; a queue counts until it connects (seen at the next expiry) or is
 * destroyed. Synchronized: cheap on the connection path, and tests drive it from their own thread.
 */
final class PendingQueues {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");

    /**
     * @param connectTimeoutMillis how long an accepted queue may go without a fabrics Connect
     *                             ({@code sanport.rdma.connectTimeoutMs}, default 10 s)
     * @param maxPendingPerHost    queues without a Connect one host address may hold
     *                             ({@code sanport.rdma.maxPendingPerHost}, default 129: a Linux host sets up all
     *                             its I/O queues' QPs before it sends their Connects, and a controller has up to
     *                             {@link Controller#MAX_IO_QUEUES} + the admin queue)
     */
    record Limits(long connectTimeoutMillis, int maxPendingPerHost) {
        static final Limits DEFAULT = new Limits(10_000, Controller.MAX_IO_QUEUES + 1);

        Limits {
            if (connectTimeoutMillis <= 0 || maxPendingPerHost <= 0) {
                throw new IllegalArgumentException("bad NVMe/RDMA limits: Connect timeout " + connectTimeoutMillis
                        + " ms, " + maxPendingPerHost + " pending queues per host");
            }
        }

        /** The defaults, or the system properties that override them. */
        static Limits fromSystemProperties() {
            return new Limits(Long.getLong("sanport.rdma.connectTimeoutMs", DEFAULT.connectTimeoutMillis),
                    Integer.getInteger("sanport.rdma.maxPendingPerHost", DEFAULT.maxPendingPerHost));
        }
    }

    private final Limits limits;
    private final long timeoutNanos;
    /** Each pending queue and its deadline (System.nanoTime), or Long.MIN_VALUE once it was told to go. */
    private final Map<RdmaQueue, Long> deadlines = new LinkedHashMap<>();
    private final Map<String, Integer> perHost = new HashMap<>();

    PendingQueues(Limits limits) {
        this.limits = limits;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(limits.connectTimeoutMillis());
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

    /** {@code q} was accepted at {@code now} (System.nanoTime). */
    synchronized void add(RdmaQueue q, long now) {
        if (deadlines.putIfAbsent(q, now + timeoutNanos) == null) {
            perHost.merge(q.peer(), 1, Integer::sum);
        }
    }

    /** {@code q} is destroyed: it no longer counts. */
    synchronized void remove(RdmaQueue q) {
        if (deadlines.remove(q) != null) {
            forget(q);
        }
    }

    /**
     * Forgets the queues whose Connect succeeded and tells those past their deadline to go (once; they count
     * until destroyed, as they hold their resources until then). Returns how many it told to go.
     */
    synchronized int expire(long now) {
        int ended = 0;
        for (Iterator<Map.Entry<RdmaQueue, Long>> it = deadlines.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<RdmaQueue, Long> e = it.next();
            RdmaQueue q = e.getKey();
            if (q.connected()) {
                it.remove();
                forget(q);
            } else if (e.getValue() != Long.MIN_VALUE && now - e.getValue() >= 0) {
                e.setValue(Long.MIN_VALUE);
                ended++;
                try {
                    q.reactor.execute(() -> q.run(() -> q.connectTimedOut(limits.connectTimeoutMillis())));
                } catch (RejectedExecutionException ex) {
                    // the reactor is closing: the queue goes with it
                }
            }
        }
        if (ended > 0) {
            LOG.log(System.Logger.Level.DEBUG, () -> "Connect timeout: ending queues without a Connect; pending per host "
                    + perHost);
        }
        return ended;
    }

    private void forget(RdmaQueue q) {
        perHost.computeIfPresent(q.peer(), (k, n) -> n > 1 ? n - 1 : null);
    }
}
