package io.sanport.nvme.auth;

import java.security.MessageDigest;

/**
 * HMAC from its definition (RFC 2104) on MessageDigest: a second code path, independent of javax.crypto.Mac,
 * to check the production code's values against.
 */
final class Hmac {
    private Hmac() {}

    static byte[] of(DhchapHash h, byte[] key, byte[] data) throws Exception {
        String name = switch (h) { case SHA256 -> "SHA-256"; case SHA384 -> "SHA-384"; case SHA512 -> "SHA-512"; };
        int block = h == DhchapHash.SHA256 ? 64 : 128;
        MessageDigest md = MessageDigest.getInstance(name);
        byte[] k = key.length > block ? md.digest(key) : key;
        byte[] padded = new byte[block];
        System.arraycopy(k, 0, padded, 0, k.length);
        byte[] ipad = new byte[block], opad = new byte[block];
        for (int i = 0; i < block; i++) {
            ipad[i] = (byte) (padded[i] ^ 0x36);
            opad[i] = (byte) (padded[i] ^ 0x5c);
        }
        md.update(ipad);
        md.update(data);
        byte[] inner = md.digest();
        md.update(opad);
        md.update(inner);
        return md.digest();
    }
}
