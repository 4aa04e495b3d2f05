package io.sanport.hostdriver;

/**
 * Knobs of a running target that are not part of nvmetcli's format.
 *
 * @param discoveryPort  where a discovery-only TCP port is added for every TCP address that has none
 *                       (8009, the NVMe/TCP discovery port); 0 adds none. The discovery subsystem is reachable
 *                       through every port anyway, as with nvmet.
 * @param keepAliveTickMillis how often controllers' keep-alive timers are checked
 * @param shutdownTimeoutMillis how long {@link Target#close()} waits for in-flight commands to finish
 * @param limits         connection caps and timeouts the transports enforce
 */
public record TargetOptions(int discoveryPort, long keepAliveTickMillis, long shutdownTimeoutMillis,
                            ConnectionLimits limits) {
    public static final TargetOptions DEFAULT = new TargetOptions(8009, 100, 10_000);

    public TargetOptions {
        if (discoveryPort < 0 || discoveryPort > 65535 || keepAliveTickMillis <= 0 || shutdownTimeoutMillis < 0
                || limits == null) {
            throw new IllegalArgumentException("bad target options: port " + discoveryPort + ", tick "
                    + keepAliveTickMillis + " ms, shutdown " + shutdownTimeoutMillis + " ms, limits " + limits);
        }
    }

    public TargetOptions(int discoveryPort, long keepAliveTickMillis, long shutdownTimeoutMillis) {
        this(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, ConnectionLimits.DEFAULT);
    }

    public TargetOptions withDiscoveryPort(int port) {
        return new TargetOptions(port, keepAliveTickMillis, shutdownTimeoutMillis, limits);
    }

    public TargetOptions withLimits(ConnectionLimits limits) {
        return new TargetOptions(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, limits);
    }
}
