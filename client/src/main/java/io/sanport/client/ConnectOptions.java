package io.sanport.client;

import io.sanport.nvme.Nqn;
import io.sanport.nvme.tls.TlsKey;
import io.sanport.nvme.auth.DhchapKey;
import java.util.UUID;

/**
 * What {@link RemoteController#connect} asks for; the defaults are the Linux host's (nvme-cli) defaults.
 *
 * @param ioQueues        I/O queues to create (the controller may grant fewer); 0 for a discovery controller
 * @param queueSize       entries per I/O queue, clamped to CAP.MQES+1 and MAXCMD
 * @param katoMillis      keep-alive timeout sent in the admin Connect; a Keep Alive goes out every KATO/2; 0 = none
 * @param headerDigest    ask for CRC32C header digests (ICReq DGST bit 0)
 * @param dataDigest      ask for CRC32C data digests (ICReq DGST bit 1)
 * @param hostNqn         host NQN sent in every Connect
 * @param hostId          host identifier sent in every Connect
 * @param timeoutMillis   TCP connect, ICResp and admin command timeout
 * @param transport       NVMe/TCP (the default) or NVMe/RDMA; digests are TCP-only
 * @param disableSqFlow   ask for SQ flow control off (Connect CATTR bit 2, Linux {@code disable_sqflow}): the
 *                        controller then needs no SQHD updates and may end a read with a C2HData carrying SUCCESS
 *                        instead of a separate CapsuleResp. This host never reads SQHD, so it costs nothing; nvmet
 *                        and sanport's target honour it.
 * @param dhchapSecret    the host's DH-HMAC-CHAP secret (nvme-cli {@code --dhchap-secret}), used when the controller
 *                        asks for authentication at Connect; null: none, and such a controller is refused
 * @param dhchapCtrlSecret the controller's secret (nvme-cli {@code --dhchap-ctrl-secret}): the host then checks
 *                        the controller too (bidirectional authentication); null: it does not
 * @param tlsKey          the configured TLS PSK (nvme-cli {@code --tls-key}) with its derivation: every queue's
 *                        connection starts with a TLS 1.3 handshake offering the identity
 *                        {@code NVMe0R0h <hostnqn> <subnqn>}; null: none
 */
public record ConnectOptions(int ioQueues, int queueSize, int katoMillis, boolean headerDigest, boolean dataDigest,
                             String hostNqn, UUID hostId, int timeoutMillis, boolean disableSqFlow,
                             Transport transport, DhchapKey dhchapSecret, DhchapKey dhchapCtrlSecret,
                             TlsKey tlsKey) {
    public static final int DEFAULT_QUEUE_SIZE = 128;
    public static final int DEFAULT_KATO_MILLIS = 5000;
    /** Linux: 16..1024. */
    public static final int MIN_QUEUE_SIZE = 2;
    public static final int MAX_QUEUE_SIZE = 1024;

    public ConnectOptions {
        if (ioQueues < 0 || ioQueues > 0xFFFE) {
            throw new IllegalArgumentException("ioQueues " + ioQueues + " out of 0..65534");
        }
        if (queueSize < MIN_QUEUE_SIZE || queueSize > MAX_QUEUE_SIZE) {
            throw new IllegalArgumentException("queueSize " + queueSize + " out of " + MIN_QUEUE_SIZE + ".." + MAX_QUEUE_SIZE);
        }
        if (katoMillis < 0) {
            throw new IllegalArgumentException("negative kato");
        }
        Nqn.validate(hostNqn);
        if (transport == null) {
            throw new IllegalArgumentException("transport is null");
        }
        if (dhchapCtrlSecret != null && dhchapSecret == null) {
            throw new IllegalArgumentException("a DH-HMAC-CHAP controller secret needs the host secret too");
        }
        if (transport == Transport.RDMA && tlsKey != null) {
            throw new IllegalArgumentException("TLS is an NVMe/TCP feature, not available over RDMA");
        }
        if (transport == Transport.RDMA && (headerDigest || dataDigest)) {
            throw new IllegalArgumentException("digests are an NVMe/TCP feature, not available over RDMA");
        }
    }

    /** How the queues are carried (the {@code trtype}). */
    public enum Transport {
        TCP, RDMA;

        /** "tcp" or "rdma". */
        public static Transport of(String name) {
            return switch (name.toLowerCase(java.util.Locale.ROOT)) {
                case "tcp" -> TCP;
                case "rdma" -> RDMA;
                default -> throw new IllegalArgumentException("transport must be tcp or rdma, not '" + name + "'");
            };
        }
    }

    /** Without TLS. */
    public ConnectOptions(int ioQueues, int queueSize, int katoMillis, boolean headerDigest, boolean dataDigest,
                          String hostNqn, UUID hostId, int timeoutMillis, boolean disableSqFlow,
                          Transport transport, DhchapKey dhchapSecret, DhchapKey dhchapCtrlSecret) {
        this(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, disableSqFlow,
                transport, dhchapSecret, dhchapCtrlSecret, null);
    }

    /** Over NVMe/TCP. */
    public ConnectOptions(int ioQueues, int queueSize, int katoMillis, boolean headerDigest, boolean dataDigest,
                          String hostNqn, UUID hostId, int timeoutMillis, boolean disableSqFlow) {
        this(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, disableSqFlow,
                Transport.TCP);
    }

    /** Without DH-HMAC-CHAP secrets. */
    public ConnectOptions(int ioQueues, int queueSize, int katoMillis, boolean headerDigest, boolean dataDigest,
                          String hostNqn, UUID hostId, int timeoutMillis, boolean disableSqFlow, Transport transport) {
        this(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, disableSqFlow,
                transport, null, null);
    }

    /** With SQ flow control disabled. */
    public ConnectOptions(int ioQueues, int queueSize, int katoMillis, boolean headerDigest, boolean dataDigest,
                          String hostNqn, UUID hostId, int timeoutMillis) {
        this(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, true);
    }

    /** One I/O queue per processor, 128 entries, KATO 5 s, no digests, a random host NQN/ID, SQ flow control off. */
    public static ConnectOptions defaults() {
        UUID id = UUID.randomUUID();
        return new ConnectOptions(Runtime.getRuntime().availableProcessors(), DEFAULT_QUEUE_SIZE, DEFAULT_KATO_MILLIS,
                false, false, Nqn.of(id), id, 30_000);
    }

    public ConnectOptions withIoQueues(int n) { return new ConnectOptions(n, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, disableSqFlow, transport, dhchapSecret, dhchapCtrlSecret, tlsKey); }
    public ConnectOptions withQueueSize(int n) { return new ConnectOptions(ioQueues, n, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, disableSqFlow, transport, dhchapSecret, dhchapCtrlSecret, tlsKey); }
    public ConnectOptions withKato(int ms) { return new ConnectOptions(ioQueues, queueSize, ms, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, disableSqFlow, transport, dhchapSecret, dhchapCtrlSecret, tlsKey); }
    public ConnectOptions withDigests(boolean header, boolean data) { return new ConnectOptions(ioQueues, queueSize, katoMillis, header, data, hostNqn, hostId, timeoutMillis, disableSqFlow, transport, dhchapSecret, dhchapCtrlSecret, tlsKey); }
    public ConnectOptions withHost(String nqn, UUID id) { return new ConnectOptions(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, nqn, id, timeoutMillis, disableSqFlow, transport, dhchapSecret, dhchapCtrlSecret, tlsKey); }
    public ConnectOptions withSqFlowDisabled(boolean off) { return new ConnectOptions(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, off, transport, dhchapSecret, dhchapCtrlSecret, tlsKey); }
    public ConnectOptions withTimeout(int ms) { return new ConnectOptions(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, ms, disableSqFlow, transport, dhchapSecret, dhchapCtrlSecret, tlsKey); }
    /**
     * With DH-HMAC-CHAP secrets in the {@code DHHC-1:..} form (nvme-cli's {@code --dhchap-secret} and
     * {@code --dhchap-ctrl-secret}); null for none. A malformed secret is refused without being quoted.
     */
    public ConnectOptions withDhchap(String secret, String ctrlSecret) {
        return new ConnectOptions(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis,
                disableSqFlow, transport, secret == null ? null : DhchapKey.parse(secret),
                ctrlSecret == null ? null : DhchapKey.parse(ctrlSecret), tlsKey);
    }

    /**
     * With NVMe/TCP over TLS 1.3 using a configured PSK in the interchange format ({@code NVMeTLSkey-1:01:..:},
     * {@code nvme gen-tls-key}); null: no TLS. A malformed key is refused without being quoted.
     */
    public ConnectOptions withTls(String key) {
        return withTls(key, TlsKey.Derivation.COMPAT);
    }

    /**
     * As {@link #withTls(String)}, deriving the TLS PSK as {@code derivation} says: {@link TlsKey.Derivation#COMPAT}
     * matches targets whose key nvme-cli before 2.16 (or {@code --compat}) inserted, {@link TlsKey.Derivation#RFC8446}
     * those of nvme-cli 2.16 and later.
     */
    public ConnectOptions withTls(String key, TlsKey.Derivation derivation) {
        if (key != null) {
            io.sanport.nvme.tls.TlsRecords.configured(); // a bad -Dsanport.tls.records fails here, not per connection
        }
        return new ConnectOptions(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis,
                disableSqFlow, transport, dhchapSecret, dhchapCtrlSecret,
                key == null ? null : TlsKey.parse(key).withDerivation(derivation));
    }
    public ConnectOptions withTransport(Transport t) { return new ConnectOptions(ioQueues, queueSize, katoMillis, headerDigest, dataDigest, hostNqn, hostId, timeoutMillis, disableSqFlow, t, dhchapSecret, dhchapCtrlSecret, tlsKey); }
}
