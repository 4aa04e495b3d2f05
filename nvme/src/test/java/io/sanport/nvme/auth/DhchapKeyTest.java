package io.sanport.nvme.auth;

import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DHHC-1 representation (Linux nvme_auth_extract_key) and the transform (nvme_auth_transform_key). */
class DhchapKeyTest {
    static final byte[] KEY32 = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    @Test
    void parsesWhatItFormats() {
        String text = DhchapKey.format(KEY32, 1);
        assertTrue(text.startsWith("DHHC-1:01:") && text.endsWith(":"), text);
        DhchapKey k = DhchapKey.parse(text);
        assertEquals(32, k.length());
        assertEquals(DhchapHash.SHA256, k.transformHash());
        assertNull(DhchapKey.parse(DhchapKey.format(KEY32, 0)).transformHash());
        DhchapKey noColon = DhchapKey.parse(text.substring(0, text.length() - 1));
        assertTrue(k.sameAs(noColon));
        assertFalse(k.sameAs(DhchapKey.parse(DhchapKey.format(KEY32, 2))));
    }

    @Test
    void crcIsCrc32OfTheKeyLittleEndian() {
        // CRC-32 (IEEE) of 00..1f is 0x91267e8a: stored as 8a 7e 26 91 after the key
        byte[] raw = Base64.getDecoder().decode(DhchapKey.format(KEY32, 0).substring(10, 10 + 48));
        assertEquals("8a7e2691", HexFormat.of().formatHex(raw, 32, 36));
    }

    @Test
    void refusesBadSecretsWithoutQuotingThem() {
        String good = DhchapKey.format(KEY32, 1);
        byte[] raw = Base64.getDecoder().decode(good.substring(10, good.length() - 1));
        raw[33] ^= 1; // the CRC
        String badCrc = "DHHC-1:01:" + Base64.getEncoder().encodeToString(raw) + ":";
        byte[] shortKey = new byte[24 + 4];
        String badLength = "DHHC-1:00:" + Base64.getEncoder().encodeToString(shortKey) + ":";
        String[] bad = {badCrc, badLength, "DHHC-1:04:" + good.substring(10), "DHHC-1:1:" + good.substring(10),
                "DHHC-2:01:" + good.substring(10), "DHHC-1:01:!!notbase64!!:", "", "secret"};
        for (String s : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DhchapKey.parse(s), s);
            if (s.length() > 12) assertFalse(e.getMessage().contains(s.substring(10, 20)), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DhchapKey.parse(badCrc)).getMessage().contains("CRC"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DhchapKey.parse(badLength)).getMessage().contains("24"));
        assertThrows(IllegalArgumentException.class, () -> DhchapKey.parse(null));
        assertFalse(DhchapKey.parse(good).toString().contains(good.substring(10, 20)));
    }

    @Test
    void transformIsHmacOfTheNqnAndLabel() throws Exception {
        String nqn = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";
        for (int hh = 1; hh <= 3; hh++) {
            DhchapHash h = DhchapHash.byId(hh);
            byte[] expected = Hmac.of(h, KEY32, (nqn + "NVMe-over-Fabrics").getBytes());
            assertArrayEquals(expected, DhchapKey.parse(DhchapKey.format(KEY32, hh)).transform(nqn), "hh " + hh);
            assertEquals(h.length(), expected.length);
        }
        assertArrayEquals(KEY32, DhchapKey.parse(DhchapKey.format(KEY32, 0)).transform(nqn));
    }

    @Test
    void namesAsConfigfsShowsThem() {
        assertEquals(DhchapHash.SHA384, DhchapHash.parse("hmac(sha384)"));
        assertEquals(DhchapHash.SHA512, DhchapHash.parse("SHA-512"));
        assertNull(DhchapHash.parse("md5"));
        assertEquals("hmac(sha256)", DhchapHash.SHA256.configName());
        assertEquals(DhGroup.FFDHE2048, DhGroup.parse("ffdhe2048"));
        assertEquals(DhGroup.NULL, DhGroup.parse("null"));
        assertNull(DhGroup.parse("modp2048"));
        assertEquals(DhGroup.FFDHE8192, DhGroup.byId(5));
    }
}
