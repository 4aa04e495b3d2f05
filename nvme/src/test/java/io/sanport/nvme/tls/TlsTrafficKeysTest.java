package io.sanport.nvme.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.nvme.tls.TlsHandshakeTest.SocketEndpoint;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.tls.crypto.CryptoHashAlgorithm;
import org.bouncycastle.tls.crypto.TlsSecret;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;
import org.junit.jupiter.api.Test;

/** The traffic keys handed to the kernel's TLS: RFC 8448's vectors, and a real record opened with them. */
class TlsTrafficKeysTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void rfc8448SimpleOneRttApplicationKeys() throws IOException {
        var crypto = new JcaTlsCryptoProvider().create(new SecureRandom());
        // RFC 8448 section 3: the server's and the client's application traffic secrets, then their key and iv
        TlsSecret server = crypto.createSecret(
                HEX.parseHex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"));
        TlsSecret client = crypto.createSecret(
                HEX.parseHex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5"));
        int sha256 = CryptoHashAlgorithm.sha256;
        assertEquals("9f02283b6c9c07efc26bb9f2ac92e356", HEX.formatHex(TlsSession.derive(server, sha256, "key", 16)));
        assertEquals("cf782b88dd83549aadf1e984", HEX.formatHex(TlsSession.derive(server, sha256, "iv", 12)));
        assertEquals("17422dda596ed5d9acd890e3c63f5051", HEX.formatHex(TlsSession.derive(client, sha256, "key", 16)));
        assertEquals("5b78923dee08579033e523d9", HEX.formatHex(TlsSession.derive(client, sha256, "iv", 12)));
        // derived from, not consumed: BouncyCastle still needs the secret (a KeyUpdate derives from it)
        assertEquals("9f02283b6c9c07efc26bb9f2ac92e356", HEX.formatHex(TlsSession.derive(server, sha256, "key", 16)));
    }

    @Test
    void theKeysOpenTheFirstRecordAfterTheHandshakeAndBothSidesAgree() throws Exception {
        byte[] k48 = new byte[48];
        Arrays.fill(k48, (byte) 9);
        firstRecord(TlsKey.parse(TlsKeyTest.TEXT), 16);
        firstRecord(TlsKey.of(2, k48), 32);
    }

    private void firstRecord(TlsKey key, int keyLength) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Socket[] accepted = new Socket[1];
            CompletableFuture<TlsSession> server = CompletableFuture.supplyAsync(() -> {
                try {
                    accepted[0] = ss.accept();
                    return TlsHandshake.accept(new SocketEndpoint(accepted[0]), (h, n) -> key, 5000);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort())) {
                TlsSession client = TlsHandshake.connect(new SocketEndpoint(c), key, TlsKeyTest.HOST, TlsKeyTest.SUB, 5000);
                TlsSession s = server.get(10, TimeUnit.SECONDS);
                try (TlsSession.TrafficKeys ck = client.trafficKeys(); TlsSession.TrafficKeys sk = s.trafficKeys()) {
                    assertEquals(keyLength, ck.txKey().length);
                    assertArrayEquals(ck.txKey(), sk.rxKey());
                    assertArrayEquals(ck.txIv(), sk.rxIv());
                    assertArrayEquals(sk.txKey(), ck.rxKey());
                    assertArrayEquals(sk.txIv(), ck.rxIv());
                    // BouncyCastle protects the client's first application record: the server's rx key with
                    // sequence 0 (what the kernel is given) must open it straight off the socket
                    client.protocol().getOutputStream().write("ICReq".getBytes());
                    DataInputStream raw = new DataInputStream(accepted[0].getInputStream());
                    byte[] header = new byte[5];
                    raw.readFully(header);
                    assertEquals(0x17, header[0]); // application_data outside
                    byte[] body = new byte[((header[3] & 0xff) << 8) | (header[4] & 0xff)];
                    raw.readFully(body);
                    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
                    gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(sk.rxKey(), "AES"),
                            new GCMParameterSpec(128, sk.rxIv())); // nonce = iv XOR 0
                    gcm.updateAAD(header);
                    byte[] inner = gcm.doFinal(body);
                    assertEquals("ICReq", new String(inner, 0, 5));
                    assertEquals(0x17, inner[5]); // the inner content type: application data
                }
                // close() wiped them
                TlsSession.TrafficKeys again = s.trafficKeys();
                again.close();
                assertTrue(allZero(again.txKey()) && allZero(again.rxIv()));
                // once the kernel has the keys, BouncyCastle's traffic secrets are destroyed
                s.destroySecrets();
                var sp = s.context().getSecurityParametersConnection();
                assertFalse(sp.getTrafficSecretServer().isAlive() || sp.getTrafficSecretClient().isAlive());
                assertThrows(IllegalStateException.class, s::trafficKeys);
            }
        }
    }

    @Test
    void refusedOnceApplicationDataWasRead() throws Exception {
        TlsKey key = TlsKey.parse(TlsKeyTest.TEXT);
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<TlsSession> server = CompletableFuture.supplyAsync(() -> {
                try {
                    return TlsHandshake.accept(new SocketEndpoint(ss.accept()), (h, n) -> key, 5000);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort())) {
                TlsSession client = TlsHandshake.connect(new SocketEndpoint(c), key, TlsKeyTest.HOST, TlsKeyTest.SUB, 5000);
                TlsSession s = server.get(10, TimeUnit.SECONDS);
                client.protocol().getOutputStream().write(new byte[10]);
                assertEquals(0, s.protocol().getInputStream().read());
                // 9 bytes of a record BouncyCastle decrypted are buffered: the kernel would never see them
                IOException e = assertThrows(IOException.class, s::trafficKeys);
                assertTrue(e.getMessage().contains("already carried application data"), e.getMessage());
            }
        }
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) return false;
        }
        return true;
    }
}
