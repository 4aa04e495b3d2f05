package io.sanport.nvme.tls;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TlsKeyTest {
    // libnvme's test/psk.c vector: this key exports to this interchange string
    static final byte[] KEY = HexFormat.of().parseHex("5512dbb6737d0106f65975b773dfb011ffc344bcf442e2dd6d8bc4870b5d5b03");
    static final String TEXT = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";
    static final String SUB = "nqn.2024-01.io.sanport:disk";

    @Test
    void interchangeFormatMatchesLibnvme() {
        assertEquals(TEXT, TlsKey.format(1, KEY));
        TlsKey k = TlsKey.parse(TEXT);
        assertEquals(1, k.hash());
        assertEquals(32, k.length());
        assertFalse(k.toString().contains("VRLb"));
    }

    @Test
    void badKeysAreRefused() {
        // one base64 character changed: the CRC no longer matches
        String typo = TEXT.replace("VRLb", "VRLc");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsKey.parse(typo)).getMessage().contains("CRC"));
        // a 32-byte key marked SHA-384
        assertThrows(IllegalArgumentException.class, () -> TlsKey.parse(TEXT.replace(":01:", ":02:")));
        assertThrows(IllegalArgumentException.class, () -> TlsKey.parse(TEXT.replace(":01:", ":03:")));
        assertThrows(IllegalArgumentException.class, () -> TlsKey.parse(TEXT.replace("NVMeTLSkey-1", "NVMeTLSkey-2")));
        assertThrows(IllegalArgumentException.class, () -> TlsKey.parse(TlsKey.format(0, new byte[31])));
        assertThrows(IllegalArgumentException.class, () -> TlsKey.parse("NVMeTLSkey-1:01:!!!!:"));
        assertThrows(IllegalArgumentException.class, () -> TlsKey.parse("NVMeTLSkey-1:01:"));
        assertEquals(48, TlsKey.of(0, new byte[48]).length());
        assertEquals(2, TlsKey.of(0, new byte[48]).cipherHash());
    }

    /** Expected values computed independently (Python hmac/hashlib, libnvme's HKDF label encoding). */
    @Test
    void derivationMatchesIndependentComputation() {
        TlsKey k = TlsKey.parse(TEXT);
        HexFormat hex = HexFormat.of();
        assertEquals("06e6615ab4c6e17e6d55e08a919e80d190a30d8f51cd1eddbc642285c06b500c", hex.formatHex(k.retained(HOST)));
        assertEquals("NVMe0R01 " + HOST + " " + SUB, k.identity(HOST, SUB));
        assertEquals("359aac2f32baf8b5864e41d6f542a9c347460155e66714ca0b13219d9521e1a6",
                hex.formatHex(k.tlsPsk(HOST, SUB, 0)));
        assertEquals("NVMe1R01 " + HOST + " " + SUB + " uIFYgMhtKpZkXkpeWF2yU/VA7W4qSSSiwTV6h7WW6v0=",
                k.identityV1(HOST, SUB));
        assertEquals("abcc089db454eb52f8e22008cfbff986d1d59f9bc4726fdd0623f41d4147eeeb",
                hex.formatHex(k.tlsPsk(HOST, SUB, 1)));
        byte[] k48 = new byte[48];
        for (int i = 0; i < 48; i++) k48[i] = (byte) i;
        assertEquals("eec4542eabdb3fe98e2e409f84506b85a2cdc4c15d8614a61bbf3265d6714fc806d1a9a78ffb56dfcdb4da58912125ad",
                hex.formatHex(TlsKey.of(2, k48).tlsPsk(HOST, SUB, 0)));
        // hash indicator 0: the configured key is the retained one
        assertArrayEquals(KEY, TlsKey.of(0, KEY).retained(HOST));
    }

    /** libnvme 1.16's test/psk.c: version-1 identities of its configured key under both derivations. */
    @Test
    void identitiesMatchLibnvmeForBothDerivations() {
        byte[] k48 = new byte[48];
        System.arraycopy(KEY, 0, k48, 0, 32);
        System.arraycopy(KEY, 16, k48, 32, 16); // libnvme's 48-byte vector repeats bytes 16..31
        String host = "nqn.psk-test-host";
        String sub = "nqn.psk-test-subsys";
        String prefix = " " + host + " " + sub + " ";
        TlsKey k256 = TlsKey.of(1, KEY);
        TlsKey k384 = TlsKey.of(2, k48);
        assertEquals(TlsKey.Derivation.COMPAT, k256.derivation());
        assertEquals("NVMe1R01" + prefix + "66GuqV08TsAGII39teWUfwQwizjv06Jy8jOcX3NAAzM=", k256.identityV1(host, sub));
        assertEquals("NVMe1R02" + prefix + "RsKmYJ3nAn1ApjjMloJFbAkLPivONDAX/xW327YBUsn2eGShXSjCZvBaOxscLqmz",
                k384.identityV1(host, sub));
        TlsKey r256 = k256.withDerivation(TlsKey.Derivation.RFC8446);
        TlsKey r384 = k384.withDerivation(TlsKey.Derivation.RFC8446);
        assertEquals("NVMe1R01" + prefix + "iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=", r256.identityV1(host, sub));
        assertEquals("NVMe1R02" + prefix + "QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a",
                r384.identityV1(host, sub));
        // the derivation is part of the key: the TLS PSKs differ, and a reload that changes it is a new key
        assertFalse(java.util.Arrays.equals(k256.tlsPsk(host, sub, 0), r256.tlsPsk(host, sub, 0)));
        assertFalse(TlsKey.same(k256, r256));
        assertTrue(TlsKey.same(r256, TlsKey.of(1, KEY).withDerivation(TlsKey.Derivation.RFC8446)));
        assertTrue(r256.toString().contains("rfc8446") && !r256.toString().contains("VRLb"));
    }

    /** RFC 8446 7.1's HkdfLabel layout, byte by byte, and the names the configuration takes. */
    @Test
    void rfc8446InfoLayout() {
        byte[] info = TlsKey.info(TlsKey.Derivation.RFC8446, "HostNQN", "ab".getBytes(), 48);
        assertEquals("0030" + "0d" + HexFormat.of().formatHex("tls13 HostNQN".getBytes()) + "02" + "6162",
                HexFormat.of().formatHex(info));
        byte[] compat = TlsKey.info(TlsKey.Derivation.COMPAT, "HostNQN", "ab".getBytes(), 48);
        assertEquals("3000" + HexFormat.of().formatHex("tls13 HostNQNab".getBytes()), HexFormat.of().formatHex(compat));
        assertThrows(IllegalArgumentException.class,
                () -> TlsKey.info(TlsKey.Derivation.RFC8446, "HostNQN", new byte[256], 32));
        assertEquals(TlsKey.Derivation.RFC8446, TlsKey.Derivation.of("RFC8446"));
        assertEquals(TlsKey.Derivation.COMPAT, TlsKey.Derivation.of("compat"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TlsKey.Derivation.of("rfc5869")).getMessage()
                .contains("2.16"));
    }
}
