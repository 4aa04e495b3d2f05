package io.sanport.hostdriver;

/**
 * The transport side of one queue pair (a TCP connection, an RDMA QP), as the core sees it. Every method runs
 * on the queue's reactor thread, except {@link #disconnect}.
 */
public interface RemoteQueue {

    /**
     * Parses SGL1 of {@code r}: sets its data length and whether the data came in the capsule, or returns the
     * status code that refuses it (nvmet {@code nvmet_tcp_map_data}); {@link io.sanport.nvme.Status#SUCCESS} if fine.
     */
    int mapData(Request r);

    /**
     * Moves the host's data into {@code r}'s buffer (in-capsule, R2T/H2CData, RDMA READ), then calls
     * {@link QueuePair#dataReceived}: later from the receive path, or from inside this call when the data is in hand.
     */
    void receiveData(Request r);

    /** Sends the completion of {@code r}, after its data for a successful read (nvmet {@code queue_response}); then calls {@link QueuePair#release}. */
    void sendResponse(Request r);

    /**
     * The largest queue (SQSIZE + 1) a Connect on this queue may ask for: what the transport sized its own
     * resources by before the Connect (NVMe/RDMA: HSQSIZE + 1 of the RDMA CM request). A deeper Connect is refused
     * with Connect Invalid Parameters on SQSIZE. Unbounded by default (the core's own limits apply).
     */
    default int maxQueueSize() {
        return Integer.MAX_VALUE;
    }

    /** After a successful Connect: makes room for {@code entries} requests; slot 0 (the Connect) stays (nvmet {@code install_queue}). */
    void install(int entries);

    /** Tears the queue down from any thread: keep-alive expiry, controller deletion, target shutdown (nvmet {@code delete_ctrl}). */
    void disconnect();

    /** The local address the host reached, reported as TRADDR for wildcard ports in the discovery log. */
    String localAddress();

    /**
     * The host's network address (IP, no port): the key of its per-host buffer quota on the reactor
     * ({@link TargetOptions#hostPacedPerHost}). Asked once, when the queue pair is made. Null: no such quota
     * (an in-process transport).
     */
    default String hostAddress() {
        return null;
    }

    /** The host's end as logs and the control socket show it (address:port where the transport has one). */
    default String peer() {
        String a = hostAddress();
        return a != null ? a : "in-process";
    }

    /**
     * The host and subsystem NQNs of the TLS PSK identity this queue's connection was opened with, or null
     * without TLS: the Connect must name the same (a host's key is no key for another host's name).
     */
    default String[] tlsIdentity() {
        return null;
    }
}
