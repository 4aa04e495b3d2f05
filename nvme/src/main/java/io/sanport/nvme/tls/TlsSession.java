package io.sanport.nvme.tls;

import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.SecurityParameters;
import org.bouncycastle.tls.TlsContext;
import org.bouncycastle.tls.TlsProtocol;
import org.bouncycastle.tls.crypto.TlsCryptoUtils;
import org.bouncycastle.tls.crypto.TlsSecret;

import java.io.IOException;

/**
 * An established NVMe/TCP TLS 1.3 session (handshake done, nothing of the NVMe/TCP stream exchanged yet): the
 * protocol object that carries its records (when Java handles them), its context (the traffic secrets, when the
 * kernel does), the cipher suite and the PSK identity's host and subsystem NQNs.
 */
public record TlsSession(TlsProtocol protocol, TlsContext context, int cipherSuite, String hostNqn, String subNqn) {
    public String cipherName() {
        return switch (cipherSuite) {
            case CipherSuite.TLS_AES_128_GCM_SHA256 -> "TLS_AES_128_GCM_SHA256";
            case CipherSuite.TLS_AES_256_GCM_SHA384 -> "TLS_AES_256_GCM_SHA384";
            default -> "cipher suite 0x" + Integer.toHexString(cipherSuite);
        };
    }

    /**
     * The application traffic keys and ivs of both directions (RFC 8446 7.3), for the kernel's record layer.
     * Only right before any application data: the kernel starts both sequence numbers at 0, so this refuses a
     * session whose protocol object holds received application data. BouncyCastle's blocking reads ask for
     * exactly one record's bytes, so nothing past the handshake has left the socket. The secrets themselves
     * stay BouncyCastle's (derived from, not consumed); the caller wipes what this returns.
     */
    public TrafficKeys trafficKeys() throws IOException {
        if (protocol.applicationDataAvailable() != 0 || protocol.isClosed()) {
            throw new IOException("the TLS session already carried application data or is closed: "
                    + "the kernel's record layer cannot take it over");
        }
        SecurityParameters sp = context.getSecurityParametersConnection();
        int keyLength = switch (cipherSuite) {
            case CipherSuite.TLS_AES_128_GCM_SHA256 -> 16;
            case CipherSuite.TLS_AES_256_GCM_SHA384 -> 32;
            default -> throw new IOException(cipherName() + " has no kernel record layer here");
        };
        int hash = sp.getPRFCryptoHashAlgorithm();
        TlsSecret local = context.isServer() ? sp.getTrafficSecretServer() : sp.getTrafficSecretClient();
        TlsSecret peer = context.isServer() ? sp.getTrafficSecretClient() : sp.getTrafficSecretServer();
        byte[][] k = new byte[4][];
        try {
            k[0] = derive(local, hash, "key", keyLength);
            k[1] = derive(local, hash, "iv", 12);
            k[2] = derive(peer, hash, "key", keyLength);
            k[3] = derive(peer, hash, "iv", 12);
            return new TrafficKeys(k[0], k[1], k[2], k[3]);
        } catch (IOException | RuntimeException e) {
            for (byte[] b : k) {
                if (b != null) {
                    java.util.Arrays.fill(b, (byte) 0);
                }
            }
            throw e;
        }
    }

    /**
     * Destroys BouncyCastle's application traffic secrets once the kernel holds the keys: the protocol object
     * carries no record after that, and the secrets would otherwise wait on the heap for the collector.
     */
    public void destroySecrets() {
        SecurityParameters sp = context.getSecurityParametersConnection();
        for (TlsSecret s : new TlsSecret[] {sp.getTrafficSecretClient(), sp.getTrafficSecretServer()}) {
            if (s != null && s.isAlive()) {
                s.destroy();
            }
        }
    }

    /** HKDF-Expand-Label(secret, label, "", length): a new secret, extracted, so {@code secret} lives on. */
    static byte[] derive(TlsSecret secret, int cryptoHash, String label, int length) throws IOException {
        return TlsCryptoUtils.hkdfExpandLabel(secret, cryptoHash, label, new byte[0], length).extract();
    }

    /** Write (tx) and read (rx) key and iv of a TLS 1.3 session; {@link #close} zeroes them. */
    public record TrafficKeys(byte[] txKey, byte[] txIv, byte[] rxKey, byte[] rxIv) implements AutoCloseable {
        @Override
        public void close() {
            java.util.Arrays.fill(txKey, (byte) 0);
            java.util.Arrays.fill(txIv, (byte) 0);
            java.util.Arrays.fill(rxKey, (byte) 0);
            java.util.Arrays.fill(rxIv, (byte) 0);
        }

        @Override
        public String toString() {
            return "TrafficKeys[secret]"; // never the bytes
        }
    }
}
