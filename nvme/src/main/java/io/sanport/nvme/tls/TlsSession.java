package io.sanport.nvme.tls;

import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.TlsProtocol;

/**
 * An established NVMe/TCP TLS 1.3 session (handshake done, nothing of the NVMe/TCP stream exchanged yet): the
 * protocol object that carries its records, the cipher suite and the PSK identity's host and subsystem NQNs.
 */
public record TlsSession(TlsProtocol protocol, int cipherSuite, String hostNqn, String subNqn) {
    public String cipherName() {
        return switch (cipherSuite) {
            case CipherSuite.TLS_AES_128_GCM_SHA256 -> "TLS_AES_128_GCM_SHA256";
            case CipherSuite.TLS_AES_256_GCM_SHA384 -> "TLS_AES_256_GCM_SHA384";
            default -> "cipher suite 0x" + Integer.toHexString(cipherSuite);
        };
    }
}
