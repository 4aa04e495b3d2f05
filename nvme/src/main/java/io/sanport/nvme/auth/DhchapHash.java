package io.sanport.nvme.auth;

import io.sanport.nvme.fabrics.Dhchap;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The hash functions of DH-HMAC-CHAP, with their HashID and the name Linux's configfs shows ({@code hmac(sha256)}). */
public enum DhchapHash {
    SHA256(Dhchap.HASH_SHA256, 32, "SHA-256", "HmacSHA256"),
    SHA384(Dhchap.HASH_SHA384, 48, "SHA-384", "HmacSHA384"),
    SHA512(Dhchap.HASH_SHA512, 64, "SHA-512", "HmacSHA512");

    private final int id;
    private final int length;
    private final String digest;
    private final String hmac;

    DhchapHash(int id, int length, String digest, String hmac) {
        this.id = id;
        this.length = length;
        this.digest = digest;
        this.hmac = hmac;
    }

    public int id() { return id; }
    /** Digest length in bytes: HL of the messages. */
    public int length() { return length; }
    /** As configfs' {@code dhchap_hash} shows it. */
    public String configName() { return "hmac(" + name().toLowerCase() + ")"; }

    /** The hash with HashID {@code id}, or null. */
    public static DhchapHash byId(int id) {
        for (DhchapHash h : values()) if (h.id == id) return h;
        return null;
    }

    /** Parses {@code sha256}, {@code hmac(sha256)}, {@code SHA-256} (any case); null when none of them. */
    public static DhchapHash parse(String name) {
        String n = name.trim().toLowerCase().replace("-", "");
        if (n.startsWith("hmac(") && n.endsWith(")")) n = n.substring(5, n.length() - 1);
        for (DhchapHash h : values()) if (h.name().toLowerCase().equals(n)) return h;
        return null;
    }

    /** A fresh HMAC keyed with {@code key}. */
    public Mac mac(byte[] key) {
        try {
            Mac m = Mac.getInstance(hmac);
            m.init(new SecretKeySpec(key, hmac));
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(hmac + " unavailable in this JDK", e);
        }
    }

    public byte[] hash(byte[] data) {
        try {
            return MessageDigest.getInstance(digest).digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(digest + " unavailable in this JDK", e);
        }
    }
}
