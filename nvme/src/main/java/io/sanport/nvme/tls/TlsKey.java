package io.sanport.nvme.tls;

import io.sanport.nvme.auth.DhchapHash;

import java.nio.charset.StandardCharsets;
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
 * HKDF-Expand-Label's info here is libnvme's encoding, which the Linux keyring holds: the length as a
 * little-endian 16-bit number, then {@code "tls13 "}, the label and the context without length bytes.
 * {@link #toString()} never shows the secret.
 */
public final class TlsKey {
    private static final String PREFIX = "NVMeTLSkey-1:";
    private final int hash;          // 0: none, 1: SHA-256, 2: SHA-384
    private final byte[] configured; // 32 or 48 bytes

    private TlsKey(int hash, byte[] configured) {
        this.hash = hash;
        this.configured = configured;
    }

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
        TlsKey k = new TlsKey(hash, Arrays.copyOf(raw, len));
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
        return expandLabel(hash, extract(hash, configured), "HostNQN", hostNqn.getBytes(StandardCharsets.UTF_8),
                configured.length);
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
        byte[] psk = expandLabel(h, extract(h, retained), "nvme-tls-psk",
                context.getBytes(StandardCharsets.UTF_8), configured.length);
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

    static byte[] extract(int hash, byte[] ikm) {
        return hmac(hash, new byte[hash == 1 ? 32 : 48], ikm);
    }

    /** HKDF-Expand with libnvme's label encoding (see the class comment). */
    static byte[] expandLabel(int hash, byte[] prk, String label, byte[] context, int length) {
        byte[] l = label.getBytes(StandardCharsets.US_ASCII);
        byte[] info = new byte[2 + 6 + l.length + context.length];
        info[0] = (byte) length;
        info[1] = (byte) (length >>> 8);
        System.arraycopy("tls13 ".getBytes(StandardCharsets.US_ASCII), 0, info, 2, 6);
        System.arraycopy(l, 0, info, 8, l.length);
        System.arraycopy(context, 0, info, 8 + l.length, context.length);
        byte[] out = new byte[length];
        byte[] t = new byte[0];
        int done = 0;
        for (int i = 1; done < length; i++) {
            byte[] in = new byte[t.length + info.length + 1];
            System.arraycopy(t, 0, in, 0, t.length);
            System.arraycopy(info, 0, in, t.length, info.length);
            in[in.length - 1] = (byte) i;
            t = hmac(hash, prk, in);
            int n = Math.min(t.length, length - done);
            System.arraycopy(t, 0, out, done, n);
            done += n;
        }
        Arrays.fill(prk, (byte) 0);
        return out;
    }

    private static byte[] hmac(int hash, byte[] key, byte[] data) {
        return (hash == 1 ? DhchapHash.SHA256 : DhchapHash.SHA384).mac(key).doFinal(data);
    }

    /** Whether {@code a} and {@code b} are the same key (constant time); null for none. */
    public static boolean same(TlsKey a, TlsKey b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.hash == b.hash && java.security.MessageDigest.isEqual(a.configured, b.configured);
    }

    @Override
    public String toString() {
        return "TLS PSK (" + configured.length + " bytes, hash " + hash + ")";
    }
}
