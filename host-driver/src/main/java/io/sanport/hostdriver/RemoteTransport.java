package io.sanport.hostdriver;

import java.io.IOException;

/**
 * A fabrics transport on the target side, found with {@link java.util.ServiceLoader} by {@link #type()}
 * (Linux {@code struct nvmet_fabrics_ops}, SPDK {@code spdk_nvmf_transport_ops}). It listens on ports, turns
 * each new host connection into a {@link QueuePair} of the core through the {@link ConnectionManager}
 * ({@link Target#nextReactor}, {@link Target#newQueue}), and moves
 * capsules and data for it through a {@link RemoteQueue}.
 */
public interface RemoteTransport {

    /** The configuration name, as nvmetcli's {@code addr.trtype}: "tcp", "rdma". */
    String type();

    /** The discovery log TRTYPE: 3 for TCP, 1 for RDMA. */
    int trtype();

    /** Identify Controller IOCCSZ: the I/O command capsule size in 16-byte units (SQE + in-capsule data). */
    int ioccsz();

    /** Identify Controller SGLS bits the host needs to see for this transport. */
    int sgls();

    /** Whether the transport has a well-known port of its own for discovery (NVMe/TCP: 8009), so the target adds one. */
    default boolean dedicatedDiscoveryPort() { return false; }

    /** Starts listening on {@code port} and hands every new queue to {@code target} (nvmet {@code add_port}). */
    Listener listen(Port port, Target target) throws IOException;

    /** A listening port. */
    interface Listener extends AutoCloseable {
        /** The bound TCP/UDP port, the real one when the config asked for 0. */
        int boundPort();

        /** Stops accepting; connections already accepted stay (nvmet {@code remove_port}). */
        @Override
        void close() throws IOException;
    }
}
