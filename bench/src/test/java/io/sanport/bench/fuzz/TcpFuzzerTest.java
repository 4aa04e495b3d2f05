package io.sanport.bench.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fuzzer itself: it replays a case from its seed, and it reports targets that hang or talk nonsense. */
class TcpFuzzerTest {
    @Test
    void aCaseIsAFunctionOfItsSeed() {
        byte[] pdu = new byte[72];
        pdu[0] = 4;
        pdu[2] = 72;
        PduMutator.put(pdu, 4, 4, 72);
        for (long seed = 1; seed < 200; seed++) {
            StringBuilder a = new StringBuilder();
            StringBuilder b = new StringBuilder();
            byte[] x = new PduMutator(new SplittableRandom(seed)).mutate(pdu, PduMutator.SQE, seed % 2 == 0, a);
            byte[] y = new PduMutator(new SplittableRandom(seed)).mutate(pdu, PduMutator.SQE, seed % 2 == 0, b);
            assertArrayEquals(x, y);
            assertEquals(a.toString(), b.toString());
        }
        assertTrue(TcpFuzzer.caseSeed(1, 0) != TcpFuzzer.caseSeed(1, 1));
    }

    /** A "target" that accepts, reads everything and never answers nor closes: every case is a finding. */
    @Test
    void aTargetThatNeverLetsGoIsReported() throws Exception {
        try (Holder h = new Holder(false)) {
            TcpFuzzer f = new TcpFuzzer("127.0.0.1", h.port(), "nqn.2026-11.io.sanport:none", 300);
            List<TcpFuzzer.Finding> findings = f.run(7, 6, () -> false);
            assertEquals(6, findings.size(), findings.toString());
        }
    }

    /** A "target" that answers anything with a PDU whose PLEN is 3: reported as malformed, or as a failed setup. */
    @Test
    void aTargetThatTalksNonsenseIsReported() throws Exception {
        try (Holder h = new Holder(true)) {
            TcpFuzzer f = new TcpFuzzer("127.0.0.1", h.port(), "nqn.2026-11.io.sanport:none", 300);
            for (int i = 0; i < 6; i++) {
                TcpFuzzer.Finding finding = f.runCase(TcpFuzzer.caseSeed(11, i));
                assertNotNull(finding, "case " + i);
            }
            assertTrue(f.findings().stream().anyMatch(x -> x.problem().contains("PLEN 3")), f.findings().toString());
        }
    }

    private static final class Holder implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> held = new ArrayList<>();
        final Thread acceptor;

        Holder(boolean nonsense) throws IOException {
            acceptor = Thread.ofPlatform().daemon().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        synchronized (held) {
                            held.add(s);
                        }
                        Thread.ofPlatform().daemon().start(() -> serve(s, nonsense));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private static void serve(Socket s, boolean nonsense) {
            try (InputStream in = s.getInputStream()) {
                byte[] b = new byte[4096];
                while (in.read(b) > 0) {
                    if (nonsense) {
                        s.getOutputStream().write(new byte[] {1, 0, 8, 0, 3, 0, 0, 0});
                    }
                }
                Thread.sleep(60_000); // EOF seen, and still not closing
            } catch (IOException | InterruptedException e) {
                // closed by the test
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (held) {
                for (Socket s : held) s.close();
            }
        }
    }
}
