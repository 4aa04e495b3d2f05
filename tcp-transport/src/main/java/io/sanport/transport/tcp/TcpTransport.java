package io.sanport.transport.tcp;

import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.fabrics.Capsule;
import io.sanport.nvme.fabrics.DiscoveryLogEntry;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteTransport;
import java.io.IOException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/** NVMe/TCP, target side (Linux {@code drivers/nvme/target/tcp.c}, SPDK {@code lib/nvmf/tcp.c}). */
public final class TcpTransport implements RemoteTransport {

    // one transport serves every target in the JVM: their counters, for as long as each target lives
    private static final Map<Target, TcpStats> STATS = Collections.synchronizedMap(new WeakHashMap<>());
    private static final Map<Target, TcpConnections> CONNECTIONS = Collections.synchronizedMap(new WeakHashMap<>());

    /** The counters of {@code target}'s NVMe/TCP connections. */
    public static TcpStats stats(Target target) {
        return STATS.computeIfAbsent(target, t -> new TcpStats());
    }

    /** {@code target}'s NVMe/TCP connections: admission against its limits, and their timeouts. */
    static TcpConnections connections(Target target) {
        return CONNECTIONS.computeIfAbsent(target, TcpConnections::new);
    }

    @Override
    public String type() {
        return "tcp";
    }

    @Override
    public int trtype() {
        return DiscoveryLogEntry.TRTYPE_TCP;
    }

    @Override
    public int ioccsz() {
        return Capsule.IOCCSZ;
    }

    /** SGLs supported, Address may be an offset (in-capsule data): 0x00100001. */
    @Override
    public int sgls() {
        return IdentifyController.SGLS_SUPPORTED | IdentifyController.SGLS_OFFSET;
    }

    /** NVMe/TCP has its own discovery port, 8009 (TP 8000). */
    @Override
    public boolean dedicatedDiscoveryPort() {
        return true;
    }

    /** The largest in-capsule data accepted on any queue: admin and fabrics commands carry up to 8 KiB. */
    static int maxInCapsule() {
        return Math.max(Capsule.IN_CAPSULE_DATA, CapsuleCommand.ADMIN_IN_CAPSULE_MAX);
    }

    @Override
    public Listener listen(Port port, Target target) throws IOException {
        return TcpListener.open(port, target);
    }
}
