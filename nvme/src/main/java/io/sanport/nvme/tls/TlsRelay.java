package io.sanport.nvme.tls;

import org.bouncycastle.tls.TlsNoCloseNotifyException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Carries an established session's records between the network socket and a local socket whose other end the
 * NVMe/TCP code uses as if it were the connection (its io_uring receive/send and registered buffers unchanged):
 * one thread decrypts (network to local), one encrypts (local to network). Either direction's end (a close, an
 * alert, a bad record, a reset) shuts both sockets down, so that a reader on either side sees the end; when both
 * threads are done {@code onClosed} runs once (it closes the descriptors). Key updates and close_notify are
 * BouncyCastle's. Platform threads: they block in native reads, which would pin virtual threads' carriers.
 */
public final class TlsRelay {
    private static final int CHUNK = 64 * 1024;
    private final TlsSession session;
    private final TlsEndpoint net;
    private final TlsEndpoint local;
    private final Runnable onClosed;
    private final AtomicInteger running = new AtomicInteger(2);
    private volatile String endReason;

    private TlsRelay(TlsSession session, TlsEndpoint net, TlsEndpoint local, Runnable onClosed) {
        this.session = session;
        this.net = net;
        this.local = local;
        this.onClosed = onClosed;
    }

    /** Starts the two threads named after {@code name} (the peer). */
    public static TlsRelay start(TlsSession session, TlsEndpoint net, TlsEndpoint local, String name,
                                 Runnable onClosed) {
        TlsRelay r = new TlsRelay(session, net, local, onClosed);
        Thread in = new Thread(r::decrypt, "tls-in " + name);
        Thread out = new Thread(r::encrypt, "tls-out " + name);
        in.setDaemon(true);
        out.setDaemon(true);
        in.start();
        out.start();
        return r;
    }

    /** Why the session ended (null while it runs or when it ended normally). */
    public String endReason() { return endReason; }

    private void decrypt() {
        InputStream from = session.protocol().getInputStream();
        OutputStream to = local.out();
        byte[] buf = new byte[CHUNK];
        boolean clean = false;
        try {
            for (int n; (n = from.read(buf, 0, buf.length)) >= 0; ) {
                to.write(buf, 0, n);
            }
            clean = true; // close_notify
        } catch (TlsNoCloseNotifyException e) {
            clean = true; // the peer closed TCP without close_notify: an end, not an attack on the data
        } catch (IOException e) {
            endReason = "receiving: " + e.getMessage();
        } finally {
            // the local side sees the end; the encrypt thread then answers with close_notify and ends the rest
            local.shutdown();
            if (!clean) {
                net.shutdown();
            }
            done();
        }
    }

    private void encrypt() {
        InputStream from = local.in();
        OutputStream to = session.protocol().getOutputStream();
        byte[] buf = new byte[CHUNK];
        try {
            for (int n; (n = from.read(buf, 0, buf.length)) >= 0; ) {
                to.write(buf, 0, n);
            }
        } catch (IOException e) {
            if (endReason == null) {
                endReason = "sending: " + e.getMessage();
            }
        } finally {
            try {
                session.protocol().close(); // close_notify, when the connection still takes it
            } catch (IOException ignored) {
                // the peer is gone already
            }
            net.shutdown();
            local.shutdown();
            done();
        }
    }

    private void done() {
        if (running.decrementAndGet() == 0) {
            onClosed.run();
        }
    }
}
