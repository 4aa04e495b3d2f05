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

    /** After a successful Connect: makes room for {@code entries} requests; slot 0 (the Connect) stays (nvmet {@code install_queue}). */
    void install(int entries);

    /** Tears the queue down from any thread: keep-alive expiry, controller deletion, target shutdown (nvmet {@code delete_ctrl}). */
    void disconnect();

    /** The local address the host reached, reported as TRADDR for wildcard ports in the discovery log. */
    String localAddress();
}
