package io.sanport.cli;

import io.sanport.hostdriver.ConnectionLimits;
import io.sanport.iop.ReactorConfig;
import picocli.CommandLine.Option;

/** The target's connection limits on the command line (serve, export); defaults are {@link ConnectionLimits#DEFAULT}. */
final class LimitOptions {
    private static final ConnectionLimits D = ConnectionLimits.DEFAULT;

    @Option(names = "--max-connections", paramLabel = "N",
            description = "Connections (NVMe/TCP) or queue pairs (NVMe/RDMA) to the target at once, per transport; "
                    + "more are closed or rejected (default: ${DEFAULT-VALUE}).")
    int maxConnections = D.maxConnections();
    @Option(names = "--max-connections-per-host", paramLabel = "N",
            description = "Connections or RDMA queue pairs from one host address at once (default: ${DEFAULT-VALUE}).")
    int maxConnectionsPerHost = D.maxConnectionsPerHost();
    @Option(names = "--icreq-timeout-ms", paramLabel = "MS",
            description = "A new NVMe/TCP connection must send its ICReq within this (default: ${DEFAULT-VALUE}).")
    long icReqTimeoutMillis = D.icReqTimeoutMillis();
    @Option(names = "--connect-timeout-ms", paramLabel = "MS",
            description = "A queue's fabrics Connect must succeed within this, from the ICResp (TCP) or the RDMA CM "
                    + "accept (RDMA) (default: ${DEFAULT-VALUE}).")
    long connectTimeoutMillis = D.connectTimeoutMillis();
    @Option(names = "--data-timeout-ms", paramLabel = "MS",
            description = "An R2T must be answered, each H2CData follow the last, and data queued for a host be taken by it"
                    + " (its sends progress), within this (default: ${DEFAULT-VALUE}).")
    long dataTimeoutMillis = D.dataTimeoutMillis();
    @Option(names = "--term-timeout-ms", paramLabel = "MS",
            description = "A C2HTermReq stuck behind a blocked send is given up after this (default: ${DEFAULT-VALUE}).")
    long termTimeoutMillis = D.termTimeoutMillis();
    @Option(names = "--tcp-keepalive-s", paramLabel = "S",
            description = "TCP keepalive probes after this long idle, 0 for none (default: ${DEFAULT-VALUE}).")
    int keepAliveIdleSeconds = D.keepAliveIdleSeconds();
    @Option(names = "--tcp-user-timeout-ms", paramLabel = "MS",
            description = "TCP_USER_TIMEOUT: unacknowledged data this long ends a connection, 0 for the kernel's (default: ${DEFAULT-VALUE}).")
    int userTimeoutMillis = D.userTimeoutMillis();
    @Option(names = "--max-pending-per-host", paramLabel = "N",
            description = "NVMe/RDMA queues of one host address without a fabrics Connect yet (default: ${DEFAULT-VALUE}).")
    int maxPendingPerHost = D.maxPendingPerHost();

    ConnectionLimits limits() {
        return new ConnectionLimits(maxConnections, maxConnectionsPerHost, icReqTimeoutMillis, connectTimeoutMillis,
                dataTimeoutMillis, termTimeoutMillis, keepAliveIdleSeconds, userTimeoutMillis, maxPendingPerHost);
    }

    /** The reactors keep ring slots for the whole cap, so any split of the connections over them fits. */
    ReactorConfig reactorConfig() {
        return ReactorConfig.DEFAULT.withConnections(Math.min(maxConnections, ReactorConfig.MAX_CONNECTIONS));
    }
}
