package io.sanport.nvme.tls;

import org.bouncycastle.tls.CipherSuite;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The handshake and the relay between real loopback sockets (the NVMe/TCP layers are the transports' tests). */
class TlsHandshakeTest {
    static final String HOST = TlsKeyTest.HOST;
    static final String SUB = TlsKeyTest.SUB;

    record SocketEndpoint(Socket s) implements TlsEndpoint {
        public InputStream in() {
            try { return s.getInputStream(); } catch (IOException e) { throw new IllegalStateException(e); }
        }
        public OutputStream out() {
            try { return s.getOutputStream(); } catch (IOException e) { throw new IllegalStateException(e); }
        }
        public void shutdown() {
            try { s.close(); } catch (IOException ignored) { }
        }
    }

    @Test
    void bothCipherSuitesCarryDataBothWays() throws Exception {
        byte[] k48 = new byte[48];
        Arrays.fill(k48, (byte) 7);
        exchange(TlsKey.parse(TlsKeyTest.TEXT), CipherSuite.TLS_AES_128_GCM_SHA256);
        exchange(TlsKey.of(2, k48), CipherSuite.TLS_AES_256_GCM_SHA384);
        exchange(TlsKey.of(0, k48), CipherSuite.TLS_AES_256_GCM_SHA384);
    }

    private void exchange(TlsKey key, int suite) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<TlsSession> server = CompletableFuture.supplyAsync(() -> {
                try {
                    Socket s = ss.accept();
                    return TlsHandshake.accept(new SocketEndpoint(s), (h, n) -> h.equals(HOST) ? key : null, 5000);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort());
            TlsSession client = TlsHandshake.connect(new SocketEndpoint(c), key, HOST, SUB, 5000);
            TlsSession s = server.get(10, TimeUnit.SECONDS);
            assertEquals(suite, client.cipherSuite());
            assertEquals(suite, s.cipherSuite());
            assertEquals(HOST, s.hostNqn());
            assertEquals(SUB, s.subNqn());
            byte[] data = new byte[200_000];
            new java.util.Random(1).nextBytes(data);
            client.protocol().getOutputStream().write(data);
            byte[] got = s.protocol().getInputStream().readNBytes(data.length);
            assertArrayEquals(data, got);
            s.protocol().getOutputStream().write(data, 0, 1000);
            assertArrayEquals(Arrays.copyOf(data, 1000), client.protocol().getInputStream().readNBytes(1000));
            client.protocol().close();
            assertEquals(-1, s.protocol().getInputStream().read());
            c.close();
        }
    }

    @Test
    void wrongAndMissingKeysAreRefused() throws Exception {
        byte[] other = TlsKeyTest.KEY.clone();
        other[0] ^= 1;
        TlsKey right = TlsKey.parse(TlsKeyTest.TEXT);
        refused(right, TlsKey.of(1, other));
        refused(right, null);
    }

    private void refused(TlsKey server, TlsKey clientKey) throws Exception {
        TlsKey offered = clientKey != null ? clientKey : server;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Throwable> srv = CompletableFuture.supplyAsync(() -> {
                try (Socket s = ss.accept()) {
                    TlsHandshake.accept(new SocketEndpoint(s), (h, n) -> clientKey != null ? server : null, 5000);
                    return null;
                } catch (IOException e) {
                    return e;
                }
            });
            try (Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort())) {
                assertThrows(IOException.class, () -> TlsHandshake.connect(new SocketEndpoint(c), offered, HOST, SUB, 5000));
            }
            assertTrue(srv.get(10, TimeUnit.SECONDS) instanceof IOException);
        }
    }

    @Test
    void aSilentPeerTimesOut() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort());
             Socket s = ss.accept()) {
            long t0 = System.nanoTime();
            assertThrows(IOException.class, () -> TlsHandshake.accept(new SocketEndpoint(s), (h, n) -> null, 300));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
        }
    }

    @Test
    void theRelayCarriesBothWaysAndEndsOnClose() throws Exception {
        TlsKey key = TlsKey.parse(TlsKeyTest.TEXT);
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ServerSocket local = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Socket[] accepted = new Socket[1];
            CompletableFuture<TlsSession> server = CompletableFuture.supplyAsync(() -> {
                try {
                    accepted[0] = ss.accept();
                    return TlsHandshake.accept(new SocketEndpoint(accepted[0]), (h, n) -> key, 5000);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Socket c = new Socket(ss.getInetAddress(), ss.getLocalPort());
            TlsSession client = TlsHandshake.connect(new SocketEndpoint(c), key, HOST, SUB, 5000);
            TlsSession s = server.get(10, TimeUnit.SECONDS);
            // the server's plaintext side: a local socket pair
            Socket inner = new Socket(local.getInetAddress(), local.getLocalPort());
            Socket relaySide = local.accept();
            CountDownLatch closed = new CountDownLatch(1);
            TlsRelay.start(s, new SocketEndpoint(accepted[0]), new SocketEndpoint(relaySide), "test", closed::countDown);
            client.protocol().getOutputStream().write("ping".getBytes());
            assertArrayEquals("ping".getBytes(), inner.getInputStream().readNBytes(4));
            inner.getOutputStream().write("pong".getBytes());
            assertArrayEquals("pong".getBytes(), client.protocol().getInputStream().readNBytes(4));
            client.protocol().close(); // close_notify: the plaintext side sees the end
            assertEquals(-1, inner.getInputStream().read());
            inner.close();
            assertTrue(closed.await(5, TimeUnit.SECONDS));
        }
    }
}
