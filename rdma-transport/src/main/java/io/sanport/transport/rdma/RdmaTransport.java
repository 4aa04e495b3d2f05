package io.sanport.transport.rdma;

import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.fabrics.Capsule;
import io.sanport.nvme.fabrics.DiscoveryLogEntry;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteTransport;
import java.io.IOException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * NVMe/RDMA, target side (Linux {@code drivers/nvme/target/rdma.c}, SPDK {@code lib/nvmf/rdma.c}): RDMA CM on a
 * conductor thread, one CQ + SRQ per reactor polled by that reactor, RDMA READ/WRITE straight between the host
 * and the reactor's registered pool buffers.
 */
public final class RdmaTransport implements RemoteTransport {
    /** One receive buffer: a 64-byte SQE and the in-capsule data. */
    static final int RECV_SIZE = Capsule.SIZE;

    private static final Map<Target, RdmaStats> STATS = Collections.synchronizedMap(new WeakHashMap<>());
    private static final Map<Target, RdmaConnections> CONNECTIONS = Collections.synchronizedMap(new WeakHashMap<>());

    /** The counters of {@code target}'s NVMe/RDMA queues. */
    public static RdmaStats stats(Target target) {
        return STATS.computeIfAbsent(target, t -> new RdmaStats());
    }

    /** {@code target}'s NVMe/RDMA queue count, shared by all its RDMA ports. */
    static RdmaConnections connections(Target target) {
        return CONNECTIONS.computeIfAbsent(target, t -> new RdmaConnections(t.options().limits()));
    }

    @Override
    public String type() {
        return "rdma";
    }

    @Override
    public int trtype() {
        return DiscoveryLogEntry.TRTYPE_RDMA;
    }

    @Override
    public int ioccsz() {
        return Capsule.IOCCSZ;
    }

    /** SGLs supported, keyed data blocks, Address may be an offset (in-capsule data): 0x00100005. */
    @Override
    public int sgls() {
        return IdentifyController.SGLS_SUPPORTED | IdentifyController.SGLS_KEYED | IdentifyController.SGLS_OFFSET;
    }

    @Override
    public Listener listen(Port port, Target target) throws IOException {
        RdmaDevices.require();
        return RdmaListener.open(port, target, stats(target));
    }
}
