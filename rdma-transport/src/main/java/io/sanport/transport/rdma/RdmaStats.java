package io.sanport.transport.rdma;

import io.sanport.iop.Reactor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one target's NVMe/RDMA queues did: capsules, RDMA READ/WRITE bytes, completions, and the payload bytes
 * Java copied. One set of counters per reactor, written only by its thread; the totals are read racily, for
 * tests, the stats file and the log.
 */
public final class RdmaStats {

    /** One reactor's counters. Reactor thread only. */
    static final class Counters {
        long capsules;              // command capsules received
        long rdmaReads;             // RDMA READs posted (host-to-controller keyed data)
        long rdmaReadBytes;
        long rdmaWrites;            // RDMA WRITEs posted (controller-to-host keyed data)
        long rdmaWriteBytes;
        long sends;                 // response SENDs posted
        long postSends;             // ibv_post_send calls (one chain per queue and loop round)
        long sendsWithInvalidate;   // of which SEND_WITH_INVALIDATE
        long keyedBytesCopied;      // keyed-SGL payload copied by Java: the direct path keeps it 0
        long inCapsuleBytesCopied;  // in-capsule data copied from a receive buffer into a pool buffer
        long cqEvents;              // completion channel wake-ups
        long cqArms;                // ibv_req_notify_cq when the reactor was about to sleep
        long completions;           // work completions polled
        long parkedForCredits;      // requests that waited for send-queue or RDMA READ credits
    }

    private final Map<Reactor, Counters> byReactor = new ConcurrentHashMap<>();
    final AtomicLong connections = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong protocolErrors = new AtomicLong();
    final AtomicLong queueFaults = new AtomicLong();
    final AtomicLong connectTimeouts = new AtomicLong();

    Counters counters(Reactor reactor) {
        return byReactor.computeIfAbsent(reactor, r -> new Counters());
    }

    private long sum(java.util.function.ToLongFunction<Counters> f) {
        return byReactor.values().stream().mapToLong(f).sum();
    }

    public long capsules() { return sum(c -> c.capsules); }
    public long rdmaReads() { return sum(c -> c.rdmaReads); }
    public long rdmaReadBytes() { return sum(c -> c.rdmaReadBytes); }
    public long rdmaWrites() { return sum(c -> c.rdmaWrites); }
    public long rdmaWriteBytes() { return sum(c -> c.rdmaWriteBytes); }
    public long sends() { return sum(c -> c.sends); }
    /** ibv_post_send calls: each posts one queue's chain of a loop round (fewer than WRs when batching works). */
    public long postSends() { return sum(c -> c.postSends); }
    public long sendsWithInvalidate() { return sum(c -> c.sendsWithInvalidate); }
    /** Keyed-SGL payload bytes copied by Java: 0 on the direct path (RDMA READ/WRITE straight to pool buffers). */
    public long keyedBytesCopied() { return sum(c -> c.keyedBytesCopied); }
    /** In-capsule write data copied from receive buffers into pool buffers. */
    public long inCapsuleBytesCopied() { return sum(c -> c.inCapsuleBytesCopied); }
    public long cqEvents() { return sum(c -> c.cqEvents); }
    /** Times the CQ was armed because its reactor was about to sleep (it is polled while busy). */
    public long cqArms() { return sum(c -> c.cqArms); }
    public long completions() { return sum(c -> c.completions); }
    public long parkedForCredits() { return sum(c -> c.parkedForCredits); }
    /** Queues accepted, ever. */
    public long connections() { return connections.get(); }
    /** Connect requests refused (bad private data, no resources). */
    public long rejected() { return rejected.get(); }
    /** Queues ended for a protocol violation. */
    public long protocolErrors() { return protocolErrors.get(); }
    /** Queues ended because handling their input threw (a bug, logged with the peer); the reactor went on. */
    public long queueFaults() { return queueFaults.get(); }
    /** Queues ended because their host sent no fabrics Connect within the Connect timeout. */
    public long connectTimeouts() { return connectTimeouts.get(); }

    @Override
    public String toString() {
        return "connections=" + connections() + " rejected=" + rejected() + " protocol_errors=" + protocolErrors()
                + " queue_faults=" + queueFaults() + " connect_timeouts=" + connectTimeouts()
                + " capsules=" + capsules() + " rdma_reads=" + rdmaReads() + " rdma_read_bytes=" + rdmaReadBytes()
                + " rdma_writes=" + rdmaWrites() + " rdma_write_bytes=" + rdmaWriteBytes() + " sends=" + sends()
                + " post_sends=" + postSends() + " sends_with_invalidate=" + sendsWithInvalidate() + " keyed_bytes_copied=" + keyedBytesCopied()
                + " in_capsule_bytes_copied=" + inCapsuleBytesCopied() + " cq_events=" + cqEvents() + " cq_arms=" + cqArms()
                + " completions=" + completions() + " parked_for_credits=" + parkedForCredits();
    }
}
