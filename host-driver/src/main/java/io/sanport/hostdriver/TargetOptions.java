package io.sanport.hostdriver;

/**
 * Knobs of a running target that are not part of nvmetcli's format.
 *
 * @param discoveryPort  where a discovery-only TCP port is added for every TCP address that has none
 *                       (8009, the NVMe/TCP discovery port); 0 adds none. The discovery subsystem is reachable
 *                       through every port anyway, as with nvmet.
 * @param keepAliveTickMillis how often controllers' keep-alive timers are checked
 * @param shutdownTimeoutMillis how long {@link Target#close()} waits for in-flight commands to finish
 * @param discoveryKatoMillis the keep-alive timeout of a discovery controller whose host asked for none (KATO 0):
 *                       120 s, nvmet's {@code NVMET_DISC_KATO_MS}
 * @param maxKatoMillis  the longest keep-alive timeout any controller gets: a larger KATO in a Connect or a Set
 *                       Features is bounded to it, so a silent host's controller, queues and buffers go within it
 *                       (default 5 minutes)
 * @param limits         connection caps and timeouts the transports enforce
 */
public record TargetOptions(int discoveryPort, long keepAliveTickMillis, long shutdownTimeoutMillis,
                            long discoveryKatoMillis, long maxKatoMillis, ConnectionLimits limits) {
    public static final long DEFAULT_DISCOVERY_KATO_MILLIS = 120_000;
    public static final long DEFAULT_MAX_KATO_MILLIS = 300_000;
    public static final TargetOptions DEFAULT = new TargetOptions(8009, 100, 10_000);

    public TargetOptions {
        if (discoveryPort < 0 || discoveryPort > 65535 || keepAliveTickMillis <= 0 || shutdownTimeoutMillis < 0
                || limits == null) {
            throw new IllegalArgumentException("bad target options: port " + discoveryPort + ", tick "
                    + keepAliveTickMillis + " ms, shutdown " + shutdownTimeoutMillis + " ms, limits " + limits);
        }
        if (maxKatoMillis <= 0 || maxKatoMillis > 0xFFFFFFFFL || discoveryKatoMillis <= 0 || discoveryKatoMillis > maxKatoMillis) {
            throw new IllegalArgumentException("bad keep-alive bounds: discovery KATO " + discoveryKatoMillis
                    + " ms, maximum KATO " + maxKatoMillis + " ms (need 0 < discovery <= maximum <= 0xFFFFFFFF)");
        }
    }

    /** The default keep-alive bounds and connection limits. */
    public TargetOptions(int discoveryPort, long keepAliveTickMillis, long shutdownTimeoutMillis) {
        this(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, DEFAULT_DISCOVERY_KATO_MILLIS,
                DEFAULT_MAX_KATO_MILLIS, ConnectionLimits.DEFAULT);
    }

    /** The default connection limits. */
    public TargetOptions(int discoveryPort, long keepAliveTickMillis, long shutdownTimeoutMillis,
                         long discoveryKatoMillis, long maxKatoMillis) {
        this(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis,
                ConnectionLimits.DEFAULT);
    }

    public TargetOptions withDiscoveryPort(int port) {
        return new TargetOptions(port, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis, limits);
    }

    public TargetOptions withKeepAlive(long discoveryKato, long maxKato) {
        return new TargetOptions(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKato, maxKato, limits);
    }

    public TargetOptions withLimits(ConnectionLimits limits) {
        return new TargetOptions(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis, limits);
    }
}
