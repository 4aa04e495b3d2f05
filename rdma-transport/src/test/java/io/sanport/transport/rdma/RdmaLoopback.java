package io.sanport.transport.rdma;

import io.sanport.bindings.verbs.IbvQp;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * A whole target whose NVMe/RDMA queues run over the {@link FakeVerbsProvider}: a real io_uring reactor, a RAM
 * namespace, the real {@link RdmaDevice} / {@link RdmaReactor} / {@link RdmaQueue}; only the verbs are fake and
 * RDMA CM is replaced by {@link #connect}, which does what {@link QueuePairFactory} + {@link CmConductor} do once
 * the CM request was accepted (a QP on the reactor's CQ/SRQ, the queue built on its reactor, ESTABLISHED).
 */
final class RdmaLoopback implements AutoCloseable {
    static final String NQN = "nqn.2024-01.io.sanport:rdma-loopback";
    static final String HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:2f1d0c3b-4a59-4e68-9f7a-8b9c0d1e2f30";
    static final int SMALL_POOL = 32;
    static final ReactorConfig SMALL = new ReactorConfig(64, 128 * 1024, SMALL_POOL);
    /** The RDMA READ depth the fake host grants (what RDMA CM would report as initiator_depth). */
    static final int READ_DEPTH = 16;
    /** The host address every fake QP comes from. */
    static final String PEER = "127.0.0.2";

    final FakeVerbsProvider verbs = new FakeVerbsProvider();
    final RdmaStats stats;
    final IoProcessor iop;
    final Target target;
    final Port port;
    final Reactor reactor;
    final RdmaDevice device;
    final RdmaReactor rr;
    /** Queues their reactor handed back after quiescing (what the conductor would destroy). */
    final Queue<RdmaQueue> freed = new ConcurrentLinkedQueue<>();
    /** When set, every accepted queue is tracked here until it is destroyed, as the conductor does. */
    volatile PendingQueues pending;
    private long nextHandle = 1;

    RdmaLoopback() throws IOException {
        iop = IoProcessor.start(1, SMALL, List.of(BlockDevices.open("ram:16M")));
        String json = """
            { "ports": [ { "portid": 1, "addr": { "trtype": "%s", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "4420" },
                           "subsystems": [ "%s" ] } ],
              "subsystems": [ { "nqn": "%s", "attr": { "allow_any_host": "1" },
                                "namespaces": [ { "nsid": 1, "enable": 1, "device": { "path": "ram:16M" } } ] } ] }
            """.formatted(FakeRdmaTransport.TYPE, NQN, NQN);
        // every pool buffer may wait for RDMA READs: the read-credit tests keep more keyed writes waiting for their
        // data than READ_DEPTH, which the default host-paced share (half of 32) would stop first
        target = Target.start(TargetConfig.parse(json, "rdma-loopback.json"),
                new TargetOptions(0, 50, 5000).withHostPacedBuffers(100, SMALL_POOL), iop);
        stats = new RdmaStats();
        port = target.port(1);
        reactor = target.reactors().get(0);
        device = new RdmaDevice(verbs.context(), stats, target::memory, verbs);
        rr = device.reactor(reactor);
    }

    /** One connected queue: the fake host end and the target's queue (established, as after RDMA CM ESTABLISHED). */
    record Connection(FakeVerbsProvider.Host host, RdmaQueue queue) {}

    /** A QP for queue {@code qid} of {@code hsqsize + 1} entries (the nvme_rdma_cm_req values), connected. */
    Connection connect(int qid, int hsqsize) throws Exception {
        return connect(qid, hsqsize, 2 * (hsqsize + 1 + RdmaQueue.SPARE) + 2); // as QueuePairFactory sizes it
    }

    /** The same with a send queue of {@code sendDepth} WRs (what the device granted), to run short of credits. */
    Connection connect(int qid, int hsqsize, int sendDepth) throws Exception {
        Connection c = accept(qid, hsqsize, sendDepth);
        establish(c.queue());
        return c;
    }

    /** A QP and its queue as after rdma_accept, before RDMA CM says ESTABLISHED: capsules wait for {@link #establish}. */
    Connection accept(int qid, int hsqsize, int sendDepth) throws Exception {
        FakeVerbsProvider.Host host = verbs.connect(rr.cq, rr.srq);
        int capacity = hsqsize + 1 + RdmaQueue.SPARE;
        if (!rr.reserve(sendDepth)) {
            throw new IllegalStateException("CQ budget");
        }
        long handle = nextHandle++;
        PendingQueues p = pending;
        // what the conductor does with a quiesced queue: its CQ entries come back, it is no longer pending
        java.util.function.Consumer<RdmaQueue> destroy = q -> {
            rr.unreserve(q.sendDepth);
            if (p != null) p.remove(q);
            freed.add(q);
        };
        RdmaQueue q = build(host, MemorySegment.NULL, handle, qid, capacity, sendDepth, PEER, destroy);
        if (p != null) {
            p.add(q, System.nanoTime());
        }
        return new Connection(host, q);
    }

    /**
     * The queue of {@code host}'s QP as QueuePairFactory builds it on the reactor (no CQ entries taken here):
     * for cm_id {@code id} (NULL without RDMA CM) with conductor handle {@code handle}; {@code onFreed} gets it
     * back once quiesced.
     */
    RdmaQueue build(FakeVerbsProvider.Host host, MemorySegment id, long handle, int qid, int capacity, int sendDepth,
                    String peer, java.util.function.Consumer<RdmaQueue> onFreed) throws Exception {
        host.limits(sendDepth, READ_DEPTH);
        return reactor.call(r -> {
            try {
                return new RdmaQueue(onFreed, rr, target, port, id, handle, IbvQp.of(host.qp), host.qpNum, qid,
                        capacity, sendDepth, READ_DEPTH, true, "127.0.0.1", peer, stats);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).get(5, TimeUnit.SECONDS);
    }

    /** RDMA CM's ESTABLISHED for {@code q}, on its reactor (as the conductor hands it over). */
    void establish(RdmaQueue q) throws Exception {
        reactor.call(r -> {
            q.established();
            return null;
        }).get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        target.close();
        iop.close();
        device.close();
        verbs.close();
    }
}
