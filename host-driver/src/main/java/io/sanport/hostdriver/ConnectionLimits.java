package io.sanport.hostdriver;

/**
 * What one target lets the network hold: connections, and how long a connection may sit in each state where
 * the host owes the next step. Enforced by the transports, each counting its own connections (an NVMe/TCP
 * connection and an NVMe/RDMA queue pair hold different resources: a socket and ring slots, a QP and CQ entries).
 *
 * @param maxConnections        connections to the target at once, over all its ports, per transport (NVMe/RDMA:
 *                              queue pairs, established or not); above it a new TCP connection is accepted and
 *                              closed at once, an RDMA CM connect request is rejected (NO_RSC). Each reactor also
 *                              admits no more TCP connections than its ring has slots for
 *                              ({@code ReactorConfig.connections}).
 * @param maxConnectionsPerHost connections from one host address at once (a host opens one per queue: admin + up
 *                              to 128 I/O queues per controller)
 * @param icReqTimeoutMillis    a new connection must send its ICReq within this
 * @param connectTimeoutMillis  the queue's fabrics Connect must succeed within this: after the ICResp (TCP), after
 *                              the RDMA CM accept (RDMA)
 * @param dataTimeoutMillis     an R2T must be answered, each H2CData must follow the last, and in-capsule data
 *                              announced by PLEN must arrive, within this; else the connection ends with a
 *                              C2HTermReq and the command's buffer goes back. Also: data queued for the host
 *                              must make progress (the host reads its socket) within this, else the connection
 *                              is closed and the buffers of its reads go back
 * @param termTimeoutMillis     how long a C2HTermReq may wait behind a blocked send before the connection is
 *                              closed without it
 * @param keepAliveIdleSeconds  TCP keepalive: probes after this long idle (every 10 s, 3 of them); 0 = off
 * @param userTimeoutMillis     TCP_USER_TIMEOUT: data left unacknowledged this long ends the connection; 0 =
 *                              the kernel's default (about 15 minutes of retransmissions)
 * @param maxPendingPerHost     NVMe/RDMA queues of one host address without a fabrics Connect yet (default 129: a
 *                              Linux host sets up the QPs of all its I/O queues before it sends their Connects,
 *                              and a controller has up to {@link Controller#MAX_IO_QUEUES} + the admin queue)
 */
public record ConnectionLimits(int maxConnections, int maxConnectionsPerHost, long icReqTimeoutMillis,
                               long connectTimeoutMillis, long dataTimeoutMillis, long termTimeoutMillis,
                               int keepAliveIdleSeconds, int userTimeoutMillis, int maxPendingPerHost) {
    public static final ConnectionLimits DEFAULT =
            new ConnectionLimits(4096, 1024, 10_000, 10_000, 30_000, 5_000, 30, 30_000, Controller.MAX_IO_QUEUES + 1);

    public ConnectionLimits {
        if (maxConnections < 1 || maxConnectionsPerHost < 1 || icReqTimeoutMillis < 1 || connectTimeoutMillis < 1
                || dataTimeoutMillis < 1 || termTimeoutMillis < 1 || keepAliveIdleSeconds < 0
                || keepAliveIdleSeconds > 32767 || userTimeoutMillis < 0 || maxPendingPerHost < 1) {
            throw new IllegalArgumentException("bad connection limits: " + maxConnections + " connections, "
                    + maxConnectionsPerHost + " per host, timeouts ICReq " + icReqTimeoutMillis + " ms, Connect "
                    + connectTimeoutMillis + " ms, data " + dataTimeoutMillis + " ms, term " + termTimeoutMillis
                    + " ms, keepalive " + keepAliveIdleSeconds + " s (at most 32767), user timeout "
                    + userTimeoutMillis + " ms, " + maxPendingPerHost + " RDMA queues per host without a Connect:"
                    + " counts must be at least 1, timeouts at least 1 ms");
        }
    }

    public ConnectionLimits withMaxConnections(int total, int perHost) {
        return new ConnectionLimits(total, perHost, icReqTimeoutMillis, connectTimeoutMillis, dataTimeoutMillis,
                termTimeoutMillis, keepAliveIdleSeconds, userTimeoutMillis, maxPendingPerHost);
    }

    public ConnectionLimits withTimeouts(long icReq, long connect, long data, long term) {
        return new ConnectionLimits(maxConnections, maxConnectionsPerHost, icReq, connect, data, term,
                keepAliveIdleSeconds, userTimeoutMillis, maxPendingPerHost);
    }

    public ConnectionLimits withTcp(int keepAliveIdle, int userTimeout) {
        return new ConnectionLimits(maxConnections, maxConnectionsPerHost, icReqTimeoutMillis, connectTimeoutMillis,
                dataTimeoutMillis, termTimeoutMillis, keepAliveIdle, userTimeout, maxPendingPerHost);
    }

    public ConnectionLimits withConnectTimeout(long connect) {
        return withTimeouts(icReqTimeoutMillis, connect, dataTimeoutMillis, termTimeoutMillis);
    }

    public ConnectionLimits withMaxPendingPerHost(int pending) {
        return new ConnectionLimits(maxConnections, maxConnectionsPerHost, icReqTimeoutMillis, connectTimeoutMillis,
                dataTimeoutMillis, termTimeoutMillis, keepAliveIdleSeconds, userTimeoutMillis, pending);
    }
}
