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
 * @param hostPacedPercent how much of a reactor's buffer pool, in percent, may be held at once by commands whose
 *                       data the host has still to send (R2T + H2CData, RDMA READ): the host, not the target, decides
 *                       when such a buffer comes back. Default 50: the other half always serves reads and
 *                       in-capsule writes, and a full window of writes still streams
 * @param hostPacedPerController how many such buffers one controller may hold at once on a reactor (default 32, an
 *                       eighth of the default 256-buffer pool: 32 x 128 KiB = 4 MiB in flight, more than one host's
 *                       writes need to fill a link, while one controller alone cannot take the whole host-paced share)
 * @param hostPacedPerHost how many buffers one host address may hold at once on a reactor while their release waits
 *                       on that host: its writes whose data it still owes, and its reads (a read's buffer goes back
 *                       only once the host has taken the data, so one that stops reading its socket keeps it; whether
 *                       it will is known only at the send, so a read counts from the moment it takes its buffer).
 *                       Keyed by the network address, which a host cannot change at will as it can its NQN, so
 *                       opening more controllers or connections does not multiply it. Default 64, a quarter of the
 *                       default pool: 8 MiB of reads in flight per reactor, more than a link needs, while the other
 *                       three quarters serve the other hosts
 */
public record TargetOptions(int discoveryPort, long keepAliveTickMillis, long shutdownTimeoutMillis,
                            long discoveryKatoMillis, long maxKatoMillis, ConnectionLimits limits,
                            int hostPacedPercent, int hostPacedPerController, int hostPacedPerHost) {
    public static final long DEFAULT_DISCOVERY_KATO_MILLIS = 120_000;
    public static final long DEFAULT_MAX_KATO_MILLIS = 300_000;
    public static final int DEFAULT_HOST_PACED_PERCENT = 50;
    public static final int DEFAULT_HOST_PACED_PER_CONTROLLER = 32;
    public static final int DEFAULT_HOST_PACED_PER_HOST = 64;
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
        if (hostPacedPercent < 1 || hostPacedPercent > 100 || hostPacedPerController < 1 || hostPacedPerHost < 1) {
            throw new IllegalArgumentException("bad host-paced buffer quota: " + hostPacedPercent + "% of a pool, "
                    + hostPacedPerController + " per controller, " + hostPacedPerHost
                    + " per host (need 1..100, >= 1 and >= 1)");
        }
    }

    /** The default per-host quota. */
    public TargetOptions(int discoveryPort, long keepAliveTickMillis, long shutdownTimeoutMillis,
                         long discoveryKatoMillis, long maxKatoMillis, ConnectionLimits limits,
                         int hostPacedPercent, int hostPacedPerController) {
        this(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis, limits,
                hostPacedPercent, hostPacedPerController, DEFAULT_HOST_PACED_PER_HOST);
    }

    /** The default buffer quotas. */
    public TargetOptions(int discoveryPort, long keepAliveTickMillis, long shutdownTimeoutMillis,
                         long discoveryKatoMillis, long maxKatoMillis, ConnectionLimits limits) {
        this(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis, limits,
                DEFAULT_HOST_PACED_PERCENT, DEFAULT_HOST_PACED_PER_CONTROLLER, DEFAULT_HOST_PACED_PER_HOST);
    }

    /** How many of a {@code poolSize}-buffer pool may be host-paced at once (at least one). */
    public int hostPacedLimit(int poolSize) {
        return Math.max(1, (int) ((long) poolSize * hostPacedPercent / 100));
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
        return new TargetOptions(port, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis, limits,
                hostPacedPercent, hostPacedPerController, hostPacedPerHost);
    }

    public TargetOptions withKeepAlive(long discoveryKato, long maxKato) {
        return new TargetOptions(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKato, maxKato, limits,
                hostPacedPercent, hostPacedPerController, hostPacedPerHost);
    }

    public TargetOptions withLimits(ConnectionLimits limits) {
        return new TargetOptions(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis, limits,
                hostPacedPercent, hostPacedPerController, hostPacedPerHost);
    }

    public TargetOptions withHostPacedBuffers(int percent, int perController) {
        return new TargetOptions(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis, limits,
                percent, perController, hostPacedPerHost);
    }

    public TargetOptions withHostPacedPerHost(int perHost) {
        return new TargetOptions(discoveryPort, keepAliveTickMillis, shutdownTimeoutMillis, discoveryKatoMillis, maxKatoMillis, limits,
                hostPacedPercent, hostPacedPerController, perHost);
    }
}
