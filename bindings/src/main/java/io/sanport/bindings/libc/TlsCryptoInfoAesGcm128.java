package io.sanport.bindings.libc;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * {@code struct tls12_crypto_info_aes_gcm_128} ({@code <linux/tls.h>}): what {@code setsockopt(SOL_TLS, TLS_TX or
 * TLS_RX)} takes for AES-128-GCM. The names say TLS 1.2 but TLS 1.3 uses it too: the record nonce's first 4 bytes
 * are the salt, the other 8 the iv, and rec_seq is the next record's sequence number (big-endian).
 */
public final class TlsCryptoInfoAesGcm128 {
    private TlsCryptoInfoAesGcm128() {}

    public static final int KEY_SIZE = 16;
    public static final int IV_SIZE = 8;
    public static final int SALT_SIZE = 4;
    public static final int REC_SEQ_SIZE = 8;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.structLayout(
                    JAVA_SHORT.withName("version"),
                    JAVA_SHORT.withName("cipher_type")
            ).withName("info"),
            MemoryLayout.sequenceLayout(IV_SIZE, JAVA_BYTE).withName("iv"),
            MemoryLayout.sequenceLayout(KEY_SIZE, JAVA_BYTE).withName("key"),
            MemoryLayout.sequenceLayout(SALT_SIZE, JAVA_BYTE).withName("salt"),
            MemoryLayout.sequenceLayout(REC_SEQ_SIZE, JAVA_BYTE).withName("rec_seq")
    ).withName("tls12_crypto_info_aes_gcm_128");
}
