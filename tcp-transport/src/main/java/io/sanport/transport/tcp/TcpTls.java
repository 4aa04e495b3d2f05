package io.sanport.transport.tcp;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.Native;
import io.sanport.bindings.libc.FdStream;
import io.sanport.bindings.libc.KernelTls;
import io.sanport.bindings.libc.Libc;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.iop.Reactor;
import io.sanport.nvme.tls.TlsEndpoint;
import io.sanport.nvme.tls.TlsHandshake;
import io.sanport.nvme.tls.TlsRecords;
import io.sanport.nvme.tls.TlsRelay;
import io.sanport.nvme.tls.TlsSession;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ScheduledFuture;

/**
 * A connection on a TLS port before it is an NVMe/TCP connection: on a thread of its own (never a reactor's) the
 * TLS 1.3 handshake with the host's configured PSK, bounded by {@link #HANDSHAKE_MILLIS}; then the records go to
 * the kernel's TLS (kTLS) where it has it ({@link TlsRecords}), and the TCP socket itself becomes the
 * {@link TcpConnection}'s; otherwise a {@link TlsRelay} between the TCP socket and one end of a socket pair whose
 * other end becomes the connection's descriptor. Either way the reactor's io_uring receive/send and registered
 * buffers work as on a plain port (see README "NVMe/TCP over TLS").
 * On a port where TLS is not required, a host whose first byte does not start a TLS record is served plain.
 * A failed handshake, an alert or a bad record ends this connection only.
 */
final class TcpTls {
    private static final System.Logger LOG = System.getLogger("sanport.tcp.tls");
    // a host can fail handshakes or forge records at will: at most one warning a second
    private static final io.sanport.hostdriver.RateLimitedLog FAILURES = new io.sanport.hostdriver.RateLimitedLog(LOG, 1000);
    static final long HANDSHAKE_MILLIS = 10_000;

    private TcpTls() { }

    static void start(Target target, Port port, Reactor reactor, int fd, TcpConnections connections, int address,
                      String peer, int peerPort) {
        Thread t = new Thread(() -> handshake(target, port, reactor, fd, connections, address, peer, peerPort),
                "tls-handshake " + peer);
        t.setDaemon(true);
        t.start();
    }

    private static void handshake(Target target, Port port, Reactor reactor, int fd, TcpConnections connections,
                                  int address, String peer, int peerPort) {
        String local = TcpConnection.tune(fd, connections.limits, peer);
        TlsRecords records;
        try {
            records = TlsRecords.configured();
        } catch (IllegalArgumentException e) {
            FAILURES.warn(() -> "TLS connection from " + peer + ": " + e.getMessage() + "; closing the connection");
            close(fd);
            connections.release(reactor, address);
            return;
        }
        FdStream net = new FdStream(fd);
        Endpoint netEnd = new Endpoint(fd, net);
        TlsSession session;
        try {
            if (port.tls() == TargetConfig.PortTls.NOT_REQUIRED && !TlsHandshake.startsHandshake(peek(fd))) {
                net.close();
                if (!toReactor(target, port, reactor, fd, local, connections, address, peer, peerPort, null)) {
                    close(fd);
                }
                return;
            }
            session = TlsHandshake.accept(netEnd, target::tlsKey, HANDSHAKE_MILLIS);
        } catch (IOException | RuntimeException e) {
            // a bad binder is a wrong key or the same key derived the other way (nvme-cli >= 2.16 vs --compat)
            String hint = String.valueOf(e.getMessage()).contains("PSK binder")
                    ? " (a different key, or the host derives the TLS PSK the other way: see tls_key_derivation)" : "";
            FAILURES.warn(() -> "TLS handshake with " + peer + " on " + port + " failed: " + e.getMessage() + hint
                    + "; closing the connection");
            net.close();
            close(fd);
            connections.release(reactor, address);
            return;
        }
        String[] identity = {session.hostNqn(), session.subNqn()};
        String tls = "TLS 1.3 (" + session.cipherName() + ") with " + peer + " as " + session.hostNqn();
        boolean kernel;
        try {
            kernel = records.toKernel(session, () -> KernelTls.attachOrMissing(fd, peer),
                    k -> KernelTls.installBoth(fd, k.txKey(), k.txIv(), k.rxKey(), k.rxIv(), peer));
        } catch (IOException | RuntimeException e) {
            FAILURES.warn(() -> tls + ": " + e.getMessage() + "; closing the connection");
            net.close();
            close(fd);
            connections.release(reactor, address);
            return;
        }
        if (kernel) {
            // the TCP socket itself becomes the connection's: the kernel decrypts into io_uring's buffers
            net.close();
            LOG.log(System.Logger.Level.INFO, tls + ": records in the kernel (kTLS)");
            if (!toReactor(target, port, reactor, fd, local, connections, address, peer, peerPort, identity)) {
                close(fd);
            }
            return;
        }
        int[] pair;
        try {
            pair = Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "TLS connection from " + peer + ": " + e.getMessage());
            net.close();
            close(fd);
            connections.release(reactor, address);
            return;
        }
        LOG.log(System.Logger.Level.INFO, tls + ": records in Java (relay)");
        int inner = pair[0];
        int relayFd = pair[1];
        FdStream relayStream = new FdStream(relayFd);
        TlsRelay[] relay = new TlsRelay[1];
        relay[0] = TlsRelay.start(session, netEnd, new Endpoint(relayFd, relayStream), peer, () -> {
            String why = relay[0] != null ? relay[0].endReason() : null;
            if (why != null) {
                FAILURES.warn(() -> "TLS session with " + peer + " as " + session.hostNqn() + " ended: " + why);
            }
            net.close();
            relayStream.close();
            close(fd);
            close(relayFd);
        });
        if (!toReactor(target, port, reactor, inner, local, connections, address, peer, peerPort, identity)) {
            close(inner); // the relay sees the end and closes the rest
        }
    }

    /**
     * Gives {@code fd} to {@code reactor} as an NVMe/TCP connection ({@code identity}: the TLS session's host and
     * subsystem NQNs, null for a plain one); false when the reactor is stopping: the address's slot is released and
     * {@code fd} stays the caller's to close.
     */
    private static boolean toReactor(Target target, Port port, Reactor reactor, int fd, String local,
                                     TcpConnections connections, int address, String peer, int peerPort,
                                     String[] identity) {
        try {
            reactor.execute(() -> TcpConnection.start(target, port, reactor, fd, local, connections, address, peer,
                    peerPort, identity));
            return true;
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            connections.release(reactor, address);
            return false;
        }
    }

    /** The first byte the host sends, without taking it (bounded by the handshake timeout); -1 at the end. */
    private static int peek(int fd) throws IOException {
        ScheduledFuture<?> deadline = TlsHandshake.deadline(() -> shutdown(fd), HANDSHAKE_MILLIS);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment b = a.allocate(1);
            MemorySegment st = a.allocate(Native.CAPTURE_LAYOUT);
            long n;
            do {
                n = Libc.recv(fd, b, Libc.MSG_PEEK, st);
            } while (n == -io.sanport.bindings.Errno.EINTR);
            if (n < 0) {
                throw new IOException("recv: " + io.sanport.bindings.Errno.describe((int) -n));
            }
            return n == 0 ? -1 : Byte.toUnsignedInt(b.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        } finally {
            deadline.cancel(false);
        }
    }

    private static void shutdown(int fd) {
        try {
            Libc.shutdown(fd, Libc.SHUT_RDWR);
        } catch (ErrnoException ignored) {
            // closed already
        }
    }

    private static void close(int fd) {
        try {
            Libc.close(fd);
        } catch (ErrnoException ignored) {
            // nothing to do
        }
    }

    private record Endpoint(int fd, FdStream stream) implements TlsEndpoint {
        public InputStream in() { return stream.in(); }
        public OutputStream out() { return stream.out(); }
        public void shutdown() { TcpTls.shutdown(fd); }
    }
}
