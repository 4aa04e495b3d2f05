package io.sanport.nvme.auth;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * R1, R2 and the augmented challenge against the kernel's algorithm (drivers/nvme/target/auth.c), recomputed
 * here by building each message whole and hashing it with the RFC 2104 definition; the FFDHE groups against
 * RFC 7919.
 */
class DhchapResponseTest {
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
    static final String SUB = "nqn.2024-01.io.sanport:disk0";

    static byte[] message(byte[] c, int seq, int tid, String label, String a, String b) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(c);
        o.writeBytes(new byte[] {(byte) seq, (byte) (seq >> 8), (byte) (seq >> 16), (byte) (seq >> 24), (byte) tid, (byte) (tid >> 8), 0});
        o.writeBytes(label.getBytes());
        o.writeBytes(a.getBytes());
        o.write(0);
        o.writeBytes(b.getBytes());
        return o.toByteArray();
    }

    @Test
    void responsesAsTheKernelComputesThem() throws Exception {
        SecureRandom r = new SecureRandom();
        for (DhchapHash h : DhchapHash.values()) {
            byte[] key = new byte[h.length()];
            r.nextBytes(key);
            byte[] c = new byte[h.length()];
            r.nextBytes(c);
            int seq = 0x89abcdef, tid = 0xfeed;
            assertArrayEquals(Hmac.of(h, key, message(c, seq, tid, "HostHost", HOST, SUB)),
                    DhchapResponse.host(h, key, c, seq, tid, HOST, SUB), h.name());
            assertArrayEquals(Hmac.of(h, key, message(c, seq, tid, "Controller", SUB, HOST)),
                    DhchapResponse.controller(h, key, c, seq, tid, HOST, SUB), h.name());
            assertFalse(java.util.Arrays.equals(DhchapResponse.host(h, key, c, seq, tid, HOST, SUB),
                    DhchapResponse.host(h, key, c, seq + 1, tid, HOST, SUB)));
            byte[] session = new byte[256];
            r.nextBytes(session);
            byte[] hashed = MessageDigest.getInstance(h == DhchapHash.SHA256 ? "SHA-256" : h == DhchapHash.SHA384 ? "SHA-384" : "SHA-512").digest(session);
            assertArrayEquals(Hmac.of(h, hashed, c), DhchapResponse.augment(h, session, c));
            assertArrayEquals(c, DhchapResponse.augment(h, null, c));
        }
    }

    @Test
    void ffdheGroupsAreRfc7919s() {
        // the last 128 bits of each prime as RFC 7919 Appendix A prints them
        String[] tails = {"886b423861285c97ffffffffffffffff", "25e41d2b66c62e37ffffffffffffffff",
                "c68a007e5e655f6affffffffffffffff", "a40e329cd0e40e65ffffffffffffffff", "d68c8bb7c5c6424cffffffffffffffff"};
        DhGroup[] groups = {DhGroup.FFDHE2048, DhGroup.FFDHE3072, DhGroup.FFDHE4096, DhGroup.FFDHE6144, DhGroup.FFDHE8192};
        for (int i = 0; i < groups.length; i++) {
            BigInteger p = groups[i].parameters().getP();
            String hex = p.toString(16);
            assertEquals(groups[i].valueLength() * 8, p.bitLength());
            assertTrue(hex.startsWith("ffffffffffffffffadf85458a2bb4a9aafdc5620273d3cf1"), groups[i] + ": " + hex.substring(0, 48));
            assertTrue(hex.endsWith(tails[i]), groups[i] + ": " + hex.substring(hex.length() - 32));
            assertEquals(BigInteger.TWO, groups[i].parameters().getG());
        }
        BigInteger p = DhGroup.FFDHE2048.parameters().getP();
        assertTrue(p.isProbablePrime(40) && p.shiftRight(1).isProbablePrime(40), "ffdhe2048 is a safe prime");
    }

    @Test
    void bothSidesReachTheSameSessionKey() {
        SecureRandom r = new SecureRandom();
        for (DhGroup g : new DhGroup[] {DhGroup.FFDHE2048, DhGroup.FFDHE3072}) {
            DhExchange a = new DhExchange(g, r), b = new DhExchange(g, r);
            assertEquals(g.valueLength(), a.publicValue().length);
            byte[] ka = a.sessionKey(b.publicValue());
            assertArrayEquals(ka, b.sessionKey(a.publicValue()));
            assertEquals(g.valueLength(), ka.length);
            // the session key is g^(ab) mod p, padded: check against BigInteger arithmetic on the public values
            assertThrows(IllegalArgumentException.class, () -> a.sessionKey(new byte[g.valueLength() - 1]));
            byte[] one = new byte[g.valueLength()];
            one[one.length - 1] = 1;
            assertThrows(IllegalArgumentException.class, () -> a.sessionKey(one));
        }
    }
}
