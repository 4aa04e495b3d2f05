package io.sanport.nvme.tls;

import io.sanport.nvme.auth.DhchapHash;

import javax.crypto.KDF;
import javax.crypto.spec.HKDFParameterSpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32;

/**
 * A configured NVMe/TCP TLS PSK in the interchange format {@code NVMeTLSkey-1:HH:<base64(psk || crc32)>:} (what
 * {@code nvme gen-tls-key} prints; HH: 00 = used as the retained PSK as it is, 01 = SHA-256, 02 = SHA-384; the
 * CRC-32 is zlib's, little-endian), and the keys derived from it as the NVMe/TCP transport specification (3.6.1)
 * and libnvme do, so that a key inserted by {@code nvme gen-tls-key --insert} and ours agree:
 * <ul>
 * <li>retained PSK = HKDF-Expand-Label(HKDF-Extract(0, configured), "HostNQN", hostnqn, L);</li>
 * <li>TLS PSK = HKDF-Expand-Label(HKDF-Extract(0, retained), "nvme-tls-psk", context, L), context being the
 * identity {@code NVMe0R0h <hostnqn> <subnqn>} (version 0) or {@code "0h " + digest} (version 1).</li>
 * </ul>
 * How HKDF-Expand-Label's info is encoded is the key's {@link Derivation}: libnvme before 1.16 (nvme-cli before
 * 2.16) and {@code --compat} since then use their own; libnvme 1.16 on uses RFC 8446's HkdfLabel. Both ends must
 * agree, else the handshake fails with decrypt_error. HKDF is the JDK's ({@link KDF}).
 * {@link #toString()} never shows the secret.
 */
public final class TlsKey {
    private static final String PREFIX = "NVMeTLSkey-1:";
    private final int hash;          // 0: none, 1: SHA-256, 2: SHA-384
    private final byte[] configured; // 32 or 48 bytes
    private final Derivation derivation;

    /** How HKDF-Expand-Label's info is encoded when deriving the retained and the TLS PSK. */
    public enum Derivation {
        /**
         * libnvme before 1.16 (nvme-cli up to 2.15) and nvme-cli 2.16's {@code --compat}: the length as a
         * little-endian 16-bit number, then {@code "tls13 "}, the label and the context without length bytes.
         */
        COMPAT,
        /**
         * RFC 8446's HkdfLabel, libnvme 1.16's (nvme-cli 2.16) default: the length big-endian, then a length byte
         * and {@code "tls13 "} + label, then a length byte and the context.
         */
        RFC8446;

        /** "compat" or "rfc8446" (any case); anything else is refused naming the choices. */
        public static Derivation of(String name) {
            return switch (name.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "compat" -> COMPAT;
                case "rfc8446" -> RFC8446;
                default -> throw new IllegalArgumentException("expected compat (nvme-cli before 2.16, or --compat) "
                        + "or rfc8446 (nvme-cli 2.16 and later), got \"" + name + "\"");
            };
        }

        /** The name {@link #of} takes. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private TlsKey(int hash, byte[] configured, Derivation derivation) {
        this.hash = hash;
        this.configured = configured;
        this.derivation = derivation;
    }

    /** This key with {@code d} as its derivation (the default of a parsed key is {@link Derivation#COMPAT}). */
    public TlsKey withDerivation(Derivation d) {
        java.util.Objects.requireNonNull(d, "the TLS PSK derivation");
        return d == derivation ? this : new TlsKey(hash, configured.clone(), d);
    }

    public Derivation derivation() { return derivation; }

    /** Parses the interchange format; the message of a refusal names the problem, never the key. */
    public static TlsKey parse(String text) {
        String s = text.strip();
        if (!s.startsWith(PREFIX) || s.length() < PREFIX.length() + 4 || s.charAt(PREFIX.length() + 2) != ':'
                || !s.endsWith(":")) {
            throw new IllegalArgumentException("not a TLS PSK in the interchange format NVMeTLSkey-1:HH:<base64>:");
        }
        int hash;
        try {
            hash = Integer.parseInt(s.substring(PREFIX.length(), PREFIX.length() + 2), 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the TLS PSK's hash indicator is not hexadecimal");
        }
        if (hash > 2) {
            throw new IllegalArgumentException("the TLS PSK's hash indicator " + hash + " is not 0, 1 or 2");
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(s.substring(PREFIX.length() + 3, s.length() - 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the TLS PSK is not valid base64");
        }
        int len = raw.length - 4;
        if (len != 32 && len != 48 || hash == 1 && len != 32 || hash == 2 && len != 48) {
            throw new IllegalArgumentException("the TLS PSK has " + Math.max(len, 0) + " bytes; hash indicator "
                    + hash + " needs " + (hash == 1 ? "32" : hash == 2 ? "48" : "32 or 48"));
        }
        CRC32 crc = new CRC32();
        crc.update(raw, 0, len);
        long want = (raw[len] & 0xFFL) | (raw[len + 1] & 0xFFL) << 8 | (raw[len + 2] & 0xFFL) << 16
                | (raw[len + 3] & 0xFFL) << 24;
        if (crc.getValue() != want) {
            throw new IllegalArgumentException("the TLS PSK's CRC-32 does not match (a typo in the key?)");
        }
        TlsKey k = new TlsKey(hash, Arrays.copyOf(raw, len), Derivation.COMPAT);
        Arrays.fill(raw, (byte) 0);
        return k;
    }

    /** A key from raw bytes (32 or 48) with hash indicator 0, 1 or 2: tests and {@code gen-tls-key}. */
    public static TlsKey of(int hash, byte[] configured) {
        return parse(format(hash, configured));
    }

    /** The interchange format of {@code configured} with hash indicator {@code hash}. */
    public static String format(int hash, byte[] configured) {
        byte[] raw = Arrays.copyOf(configured, configured.length + 4);
        CRC32 crc = new CRC32();
        crc.update(configured);
        long c = crc.getValue();
        for (int i = 0; i < 4; i++) {
            raw[configured.length + i] = (byte) (c >>> (8 * i));
        }
        return PREFIX + String.format("%02x", hash) + ":" + Base64.getEncoder().encodeToString(raw) + ":";
    }

    /** 0, 1 (SHA-256) or 2 (SHA-384). */
    public int hash() { return hash; }

    /** The hash of the identity and the TLS cipher suite: SHA-256 (1) for 32-byte keys, else SHA-384 (2). */
    public int cipherHash() {
        return hash != 0 ? hash : configured.length == 32 ? 1 : 2;
    }

    public int length() { return configured.length; }

    /** The retained PSK for {@code hostNqn}: the configured one when the hash indicator is 0. */
    public byte[] retained(String hostNqn) {
        if (hash == 0) {
            return configured.clone();
        }
        return derive(hash, configured, "HostNQN", hostNqn.getBytes(StandardCharsets.UTF_8));
    }

    /** The version-0 PSK identity, {@code NVMe0R0h <hostnqn> <subnqn>}. */
    public String identity(String hostNqn, String subNqn) {
        return "NVMe0R0" + cipherHash() + " " + hostNqn + " " + subNqn;
    }

    /** The version-1 PSK identity, {@code NVMe1R0h <hostnqn> <subnqn> <digest>}. */
    public String identityV1(String hostNqn, String subNqn) {
        return "NVMe1R0" + cipherHash() + " " + hostNqn + " " + subNqn + " " + digest(hostNqn, subNqn);
    }

    /** The TLS PSK (what the Linux keyring holds under the identity) for a version 0 or 1 identity. */
    public byte[] tlsPsk(String hostNqn, String subNqn, int version) {
        int h = cipherHash();
        byte[] retained = retained(hostNqn);
        String context = version == 0 ? identity(hostNqn, subNqn) : "0" + h + " " + digest(hostNqn, subNqn);
        byte[] psk = derive(h, retained, "nvme-tls-psk", context.getBytes(StandardCharsets.UTF_8));
        Arrays.fill(retained, (byte) 0);
        return psk;
    }

    /** The version-1 identity's PSK digest: base64(HMAC(retained, hostnqn " " subnqn " NVMe-over-Fabrics")). */
    private String digest(String hostNqn, String subNqn) {
        byte[] retained = retained(hostNqn);
        byte[] d = hmac(cipherHash(), retained,
                (hostNqn + " " + subNqn + " NVMe-over-Fabrics").getBytes(StandardCharsets.UTF_8));
        Arrays.fill(retained, (byte) 0);
        return Base64.getEncoder().encodeToString(d);
    }

    /**
     * HKDF-Expand-Label(HKDF-Extract(0, {@code ikm}), label, context, L) with this key's info encoding, L being the
     * configured key's length. The pseudorandom key stays inside the JDK's KDF.
     */
    private byte[] derive(int hash, byte[] ikm, String label, byte[] context) {
        byte[] info = info(derivation, label, context, configured.length);
        try {
            KDF kdf = KDF.getInstance(hash == 1 ? "HKDF-SHA256" : "HKDF-SHA384");
            return kdf.deriveData(HKDFParameterSpec.ofExtract().addIKM(ikm).thenExpand(info, configured.length));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HKDF-SHA" + (hash == 1 ? 256 : 384) + " is not available: " + e.getMessage(), e);
        } finally {
            Arrays.fill(info, (byte) 0);
        }
    }

    /** HKDF-Expand-Label's info for {@code derivation} (see {@link Derivation}). */
    static byte[] info(Derivation derivation, String label, byte[] context, int length) {
        byte[] l = ("tls13 " + label).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream info = new ByteArrayOutputStream(4 + l.length + context.length);
        if (derivation == Derivation.COMPAT) {
            info.write(length);
            info.write(length >>> 8);
            info.writeBytes(l);
            info.writeBytes(context);
        } else {
            // HkdfLabel's label and context are opaque<..255>: libnvme refuses longer ones too
            if (context.length > 255) {
                throw new IllegalArgumentException("the TLS PSK derivation context has " + context.length
                        + " bytes, RFC 8446 allows 255 (NQNs too long for this derivation)");
            }
            info.write(length >>> 8);
            info.write(length);
            info.write(l.length);
            info.writeBytes(l);
            info.write(context.length);
            info.writeBytes(context);
        }
        return info.toByteArray();
    }

    private static byte[] hmac(int hash, byte[] key, byte[] data) {
        return (hash == 1 ? DhchapHash.SHA256 : DhchapHash.SHA384).mac(key).doFinal(data);
    }

    /** Whether {@code a} and {@code b} are the same key (constant time); null for none. */
    public static boolean same(TlsKey a, TlsKey b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.hash == b.hash && a.derivation == b.derivation
                && java.security.MessageDigest.isEqual(a.configured, b.configured);
    }

    @Override
    public String toString() {
        return "TLS PSK (" + configured.length + " bytes, hash " + hash + ", " + derivation.label() + " derivation)";
    }
}
