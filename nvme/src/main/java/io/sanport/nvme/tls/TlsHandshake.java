package io.sanport.nvme.tls;

import org.bouncycastle.tls.AbstractTlsClient;
import org.bouncycastle.tls.AbstractTlsServer;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.CertificateRequest;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.PRFAlgorithm;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.PskIdentity;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsContext;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsServerCertificate;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Vector;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The TLS 1.3 handshake of NVMe/TCP (TCP transport specification 3.6) with BouncyCastle: external PSKs only (no
 * certificates), (EC)DHE on top of the PSK as the client offers it, TLS_AES_128_GCM_SHA256 for SHA-256 PSK
 * identities and TLS_AES_256_GCM_SHA384 for SHA-384 ones. Blocking, so it runs on the caller's thread, never a
 * reactor's; a peer that does not finish within the timeout has its socket shut down.
 */
public final class TlsHandshake {
    /** What the target knows: the configured PSK of a host for a subsystem, or null. */
    public interface KeyLookup {
        TlsKey key(String hostNqn, String subNqn);
    }

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tls-handshake-timer");
        t.setDaemon(true);
        return t;
    });
    private static final SecureRandom RANDOM = new SecureRandom();

    private TlsHandshake() { }

    /**
     * The JDK's providers (default JCA) for the record layer's AES-GCM: they use the CPU's AES and carry-less
     * multiply instructions; BouncyCastle's own pure-Java AES (BcTlsCrypto) was about 40 times slower here.
     */
    private static TlsCrypto crypto() {
        return new JcaTlsCryptoProvider().create(RANDOM);
    }

    /** Runs {@code action} (a shutdown) after {@code millis} unless cancelled: a bound on a blocking wait. */
    public static ScheduledFuture<?> deadline(Runnable action, long millis) {
        return TIMER.schedule(action, millis, TimeUnit.MILLISECONDS);
    }

    /** Whether {@code firstByte}, the first byte a host sent, starts a TLS handshake record (not an ICReq). */
    public static boolean startsHandshake(int firstByte) {
        return firstByte == 0x16;
    }

    /** The target's side: the first PSK identity offered that names a host with a configured key wins. */
    public static TlsSession accept(TlsEndpoint net, KeyLookup keys, long timeoutMillis) throws IOException {
        TlsCrypto crypto = crypto();
        TlsServerProtocol protocol = new TlsServerProtocol(net.in(), net.out());
        Server server = new Server(crypto, keys);
        ScheduledFuture<?> timeout = TIMER.schedule(net::shutdown, timeoutMillis, TimeUnit.MILLISECONDS);
        try {
            protocol.accept(server);
        } finally {
            timeout.cancel(false);
        }
        return new TlsSession(protocol, server.context(), server.negotiatedSuite(), server.hostNqn, server.subNqn);
    }

    /** The host's side: offers the version-0 identity of {@code key} for {@code hostNqn} and {@code subNqn}. */
    public static TlsSession connect(TlsEndpoint net, TlsKey key, String hostNqn, String subNqn, long timeoutMillis)
            throws IOException {
        TlsCrypto crypto = crypto();
        TlsClientProtocol protocol = new TlsClientProtocol(net.in(), net.out());
        ScheduledFuture<?> timeout = TIMER.schedule(net::shutdown, timeoutMillis, TimeUnit.MILLISECONDS);
        Client client = new Client(crypto, key, hostNqn, subNqn);
        try {
            protocol.connect(client);
        } finally {
            timeout.cancel(false);
        }
        return new TlsSession(protocol, client.context(), client.negotiatedSuite(), hostNqn, subNqn);
    }

    static int suite(int hash) {
        return hash == 1 ? CipherSuite.TLS_AES_128_GCM_SHA256 : CipherSuite.TLS_AES_256_GCM_SHA384;
    }

    static int prf(int hash) {
        return hash == 1 ? PRFAlgorithm.tls13_hkdf_sha256 : PRFAlgorithm.tls13_hkdf_sha384;
    }

    private static final class Server extends AbstractTlsServer {
        private final KeyLookup keys;
        private String offered; // the first identity offered (names, no secret), for the refusal
        String hostNqn;
        String subNqn;

        Server(TlsCrypto crypto, KeyLookup keys) {
            super(crypto);
            this.keys = keys;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.TLSv13.only();
        }

        int negotiatedSuite() {
            return context.getSecurityParametersConnection().getCipherSuite();
        }

        TlsContext context() {
            return context;
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return new int[] {CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384};
        }

        @Override
        public TlsCredentials getCredentials() throws IOException {
            // asked only when no offered identity matched: PSK only, so say which identity is unknown
            throw new TlsFatalAlert(AlertDescription.unknown_psk_identity, offered == null
                    ? "no PSK identity offered" : "no configured PSK for the identity \"" + offered + "\"");
        }

        @Override
        public TlsPSKExternal getExternalPSK(Vector identities) {
            for (Object o : identities) {
                byte[] id = ((PskIdentity) o).getIdentity();
                if (offered == null) {
                    offered = new String(id, StandardCharsets.UTF_8).replaceAll("[^\\x20-\\x7e]", "?");
                    offered = offered.substring(0, Math.min(offered.length(), 600));
                }
                TlsPSKExternal psk = match(new String(id, StandardCharsets.UTF_8), id);
                if (psk != null) {
                    return psk;
                }
            }
            return null; // BouncyCastle then ends the handshake (no certificate to fall back to)
        }

        private TlsPSKExternal match(String identity, byte[] raw) {
            // NVMe<v>R0<h> <hostnqn> <subnqn>[ <digest>]; NQNs hold no spaces
            String[] f = identity.split(" ", -1);
            if (f.length < 3 || f[0].length() != 8 || !f[0].startsWith("NVMe") || f[0].charAt(5) != 'R'
                    || !f[0].startsWith("0", 6)) {
                return null;
            }
            int version = f[0].charAt(4) - '0';
            int hash = f[0].charAt(7) - '0';
            if (version < 0 || version > 1 || version == 0 && f.length != 3 || version == 1 && f.length != 4
                    || hash != 1 && hash != 2) {
                return null;
            }
            TlsKey key = keys.key(f[1], f[2]);
            if (key == null || key.cipherHash() != hash) {
                return null;
            }
            String expected = version == 0 ? key.identity(f[1], f[2]) : key.identityV1(f[1], f[2]);
            if (!expected.equals(identity)) {
                return null; // a version-1 digest of another key
            }
            byte[] secret = key.tlsPsk(f[1], f[2], version);
            hostNqn = f[1];
            subNqn = f[2];
            TlsPSKExternal psk = new BasicTlsPSKExternal(raw, getCrypto().createSecret(secret), prf(hash));
            Arrays.fill(secret, (byte) 0);
            return psk;
        }
    }

    private static final class Client extends AbstractTlsClient {
        private final TlsKey key;
        private final String hostNqn;
        private final String subNqn;

        Client(TlsCrypto crypto, TlsKey key, String hostNqn, String subNqn) {
            super(crypto);
            this.key = key;
            this.hostNqn = hostNqn;
            this.subNqn = subNqn;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.TLSv13.only();
        }

        int negotiatedSuite() {
            return context.getSecurityParametersConnection().getCipherSuite();
        }

        TlsContext context() {
            return context;
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return new int[] {suite(key.cipherHash())};
        }

        @Override
        public Vector getExternalPSKs() {
            byte[] secret = key.tlsPsk(hostNqn, subNqn, 0);
            Vector<TlsPSKExternal> v = new Vector<>();
            v.add(new BasicTlsPSKExternal(key.identity(hostNqn, subNqn).getBytes(StandardCharsets.UTF_8),
                    getCrypto().createSecret(secret), prf(key.cipherHash())));
            Arrays.fill(secret, (byte) 0);
            return v;
        }

        @Override
        public TlsAuthentication getAuthentication() {
            return new TlsAuthentication() {
                @Override
                public void notifyServerCertificate(TlsServerCertificate c) throws IOException {
                    throw new TlsFatalAlert(AlertDescription.handshake_failure); // the PSK authenticates, nothing else
                }

                @Override
                public TlsCredentials getClientCredentials(CertificateRequest r) {
                    return null;
                }
            };
        }
    }
}
