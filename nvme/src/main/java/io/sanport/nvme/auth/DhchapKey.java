package io.sanport.nvme.auth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32;
import javax.crypto.Mac;

/**
 * A DH-HMAC-CHAP secret in the representation {@code nvme gen-dhchap-key} prints and Linux's configfs takes:
 * {@code DHHC-1:<hh>:<base64 of key || CRC-32 of key, little endian>:}, the key 32, 48 or 64 bytes, and hh the
 * hash that transforms it before use (00 none, 01 SHA-256, 02 SHA-384, 03 SHA-512). Its text never appears in
 * {@link #toString}, exceptions or logs.
 */
public final class DhchapKey {
    private static final String PREFIX = "DHHC-1:";
    private static final byte[] TRANSFORM_LABEL = "NVMe-over-Fabrics".getBytes(StandardCharsets.US_ASCII);

    private final byte[] key;
    private final DhchapHash transform; // null: used as is (hh 00)

    private DhchapKey(byte[] key, DhchapHash transform) {
        this.key = key;
        this.transform = transform;
    }

    /** Parses a secret; the message of the exception says what is wrong without quoting it. */
    public static DhchapKey parse(String secret) {
        if (secret == null) throw new IllegalArgumentException("no DH-HMAC-CHAP secret");
        String s = secret.trim();
        if (!s.startsWith(PREFIX) || s.length() < PREFIX.length() + 4 || s.charAt(PREFIX.length() + 2) != ':') {
            throw new IllegalArgumentException("a DH-HMAC-CHAP secret has the form DHHC-1:<hh>:<base64>: (see nvme gen-dhchap-key)");
        }
        String hh = s.substring(PREFIX.length(), PREFIX.length() + 2);
        DhchapHash transform;
        switch (hh) {
            case "00" -> transform = null;
            case "01" -> transform = DhchapHash.SHA256;
            case "02" -> transform = DhchapHash.SHA384;
            case "03" -> transform = DhchapHash.SHA512;
            default -> throw new IllegalArgumentException("DH-HMAC-CHAP secret: transform hash must be 00..03");
        }
        String body = s.substring(PREFIX.length() + 3);
        if (body.endsWith(":")) body = body.substring(0, body.length() - 1);
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("DH-HMAC-CHAP secret: not valid base64");
        }
        if (raw.length != 36 && raw.length != 52 && raw.length != 68) {
            Arrays.fill(raw, (byte) 0);
            throw new IllegalArgumentException("DH-HMAC-CHAP secret: the key must be 32, 48 or 64 bytes, not " + (raw.length - 4));
        }
        byte[] key = Arrays.copyOf(raw, raw.length - 4);
        int stored = ByteBuffer.wrap(raw, key.length, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        Arrays.fill(raw, (byte) 0);
        if (stored != crc(key)) {
            Arrays.fill(key, (byte) 0);
            throw new IllegalArgumentException("DH-HMAC-CHAP secret: CRC mismatch (mistyped or truncated)");
        }
        return new DhchapKey(key, transform);
    }

    /** The text form of {@code key} with transform {@code hh} (0..3): what {@code nvme gen-dhchap-key} prints. */
    public static String format(byte[] key, int hh) {
        if (key.length != 32 && key.length != 48 && key.length != 64) throw new IllegalArgumentException("key of 32, 48 or 64 bytes");
        if (hh < 0 || hh > 3) throw new IllegalArgumentException("hh 0..3");
        ByteBuffer b = ByteBuffer.allocate(key.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(key).putInt(crc(key));
        return PREFIX + "0" + hh + ":" + Base64.getEncoder().encodeToString(b.array()) + ":";
    }

    private static int crc(byte[] key) {
        CRC32 c = new CRC32();
        c.update(key);
        return (int) c.getValue();
    }

    /** Key length in bytes (32, 48, 64). */
    public int length() { return key.length; }

    /** The transform's hash (hh), null for none. */
    public DhchapHash transformHash() { return transform; }

    /**
     * The key the responses are keyed with (Linux {@code nvme_auth_transform_key}): the key itself for hh 00,
     * else HMAC_hh(key, nqn || "NVMe-over-Fabrics") — the host NQN for the host's key, the subsystem NQN for the
     * controller's.
     */
    public byte[] transform(String nqn) {
        if (transform == null) return key.clone();
        Mac m = transform.mac(key);
        m.update(nqn.getBytes(StandardCharsets.UTF_8));
        m.update(TRANSFORM_LABEL);
        return m.doFinal();
    }

    /** Same key and transform (constant time on the key bytes). */
    public boolean sameAs(DhchapKey other) {
        return other != null && transform == other.transform && MessageDigest.isEqual(key, other.key);
    }

    @Override
    public String toString() {
        return "DhchapKey[" + key.length + " bytes, transform " + (transform == null ? "none" : transform.configName()) + "]";
    }
}
