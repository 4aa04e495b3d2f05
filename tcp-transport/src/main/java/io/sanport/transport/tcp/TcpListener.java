package io.sanport.transport.tcp;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.iop.Reactor;
import io.sanport.iop.RingOperation;
import io.sanport.iop.SubmissionQueue;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteTransport;
import io.sanport.nvme.tls.TlsRecords;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A listening socket (socket, SO_REUSEADDR, bind, listen through FFM) whose accepts run on the first reactor's
 * ring; each accepted connection is admitted against the target's {@link TcpConnections caps} (else closed at
 * once) and goes to the next reactor, round robin, where it lives until it closes. When the process runs out
 * of file descriptors (EMFILE, ENFILE) or socket memory, accepting backs off, 10 ms doubling to 1 s, with one
 * log line when it starts and one when it ends: the connections wait in the kernel's backlog meanwhile.
 */
final class TcpListener extends RingOperation implements RemoteTransport.Listener {
    private static final System.Logger LOG = System.getLogger("sanport.tcp");
    static final long BACKOFF_FIRST_MILLIS = 10;
    static final long BACKOFF_MAX_MILLIS = 1000;

    private final Port port;
    private final Target target;
    private final TcpConnections connections;
    private final Reactor acceptor;
    private final int fd;
    private final int boundPort;
    private final MemorySegment peer = Arena.ofAuto().allocate(SockaddrIn.LAYOUT.byteSize() + 4, 8);
    private final MemorySegment peerLength = peer.asSlice(SockaddrIn.LAYOUT.byteSize(), 4);
    private final Runnable retry = this::retryAccept;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean closing;
    private final TcpStats.Counters stats;
    private long backoffMillis;     // 0: accepting normally. Accepting reactor only

    private TcpListener(Port port, Target target, int fd, int boundPort) {
        this.port = port;
        this.target = target;
        this.connections = TcpTransport.connections(target);
        this.acceptor = target.reactors().getFirst();
        this.stats = TcpTransport.stats(target).counters(acceptor);
        this.fd = fd;
        this.boundPort = boundPort;
    }

    static TcpListener open(Port port, Target target) throws IOException {
        if (!port.adrfam().equals("ipv4")) {
            throw new IOException("NVMe/TCP over " + port.adrfam() + " is not supported yet; use an IPv4 address");
        }
        if (port.tls().offered()) {
            TlsRecords.configured(); // a bad -Dsanport.tls.records fails the port now, not each TLS connection
        }
        int fd = Libc.socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1, port);
            MemorySegment addr = arena.allocate(SockaddrIn.LAYOUT);
            SockaddrIn.sin_family(addr, Libc.AF_INET);
            SockaddrIn.sin_port(addr, Integer.parseInt(port.trsvcid()));
            SockaddrIn.sin_addr(addr, InetAddress.getByName(port.traddr()).getAddress());
            Libc.bind(fd, addr, port.traddr() + ":" + port.trsvcid());
            Libc.listen(fd, Libc.SOMAXCONN, port);
            Libc.getsockname(fd, addr);
            TcpListener l = new TcpListener(port, target, fd, SockaddrIn.sin_port(addr));
            l.connections.listenerOpened();
            l.acceptor.execute(() -> l.acceptor.submit(l));
            return l;
        } catch (IOException | RuntimeException e) {
            try {
                Libc.close(fd);
            } catch (ErrnoException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override
    public int boundPort() {
        return boundPort;
    }

    @Override
    protected boolean prep(SubmissionQueue sq, long userData) {
        peerLength.set(ValueLayout.JAVA_INT, 0, (int) SockaddrIn.LAYOUT.byteSize());
        return sq.prepAccept(fd, peer.address(), peerLength.address(), Libc.SOCK_CLOEXEC, userData);
    }

    @Override
    protected void complete(int res, int flags) {
        if (closing) {
            if (res >= 0) {
                closeQuietly(res);
            }
            stopped.countDown();
            return;
        }
        if (res == -Errno.EMFILE || res == -Errno.ENFILE || res == -Errno.ENOBUFS || res == -Errno.ENOMEM) {
            backOff(res);
            return;
        }
        if (res >= 0) {
            try {
                accepted(res);
            } catch (RuntimeException | AssertionError e) {
                // nothing of one connection's set-up may stop the accepting
                LOG.log(System.Logger.Level.ERROR, "accept on " + port + ": setting up a connection failed", e);
            }
        } else if (res != -Errno.EINTR && res != -Errno.EAGAIN && res != -Errno.ECANCELED
                && res != -Errno.ECONNABORTED) {
            LOG.log(System.Logger.Level.WARNING, "accept on " + port + ": " + Errno.describe(-res));
            if (res == -Errno.EBADF || res == -Errno.EINVAL) {
                stopped.countDown();
                return;
            }
        }
        acceptor.submit(this);
    }

    private void accepted(int conn) {
        if (backoffMillis != 0) {
            LOG.log(System.Logger.Level.INFO, "accepting on " + port + " again (" + stats.acceptFailures
                    + " accepts failed for lack of descriptors or memory since the start)");
            backoffMillis = 0;
        }
        TcpConnection.FaultHook hook = TcpConnection.faultHook;
        byte[] a = SockaddrIn.sin_addr(peer);
        int address = (a[0] & 0xFF) << 24 | (a[1] & 0xFF) << 16 | (a[2] & 0xFF) << 8 | (a[3] & 0xFF);
        int peerPort = SockaddrIn.sin_port(peer);
        String peerName = (a[0] & 0xFF) + "." + (a[1] & 0xFF) + "." + (a[2] & 0xFF) + "." + (a[3] & 0xFF) + ":" + peerPort;
        Reactor r = connections.admit(address, peerName, target.nextReactor());
        if (r == null) {
            closeQuietly(conn);
            return;
        }
        try {
            if (hook != null) {
                hook.on("accept", peerPort);
            }
            if (port.tls().offered()) {
                TcpTls.start(target, port, r, conn, connections, address, peerName, peerPort);
            } else {
                r.execute(() -> TcpConnection.start(target, port, r, conn, connections, address, peerName, peerPort));
            }
        } catch (RuntimeException | AssertionError e) {
            closeQuietly(conn);
            connections.release(r, address);
            if (!(e instanceof RejectedExecutionException)) {
                throw e;
            }
        }
    }

    /** Out of descriptors or memory: the next accept waits, twice as long each time in a row, at most 1 s. */
    private void backOff(int res) {
        stats.acceptFailures++;
        if (backoffMillis == 0) {
            LOG.log(System.Logger.Level.WARNING, "accept on " + port + ": " + Errno.describe(-res)
                    + "; backing off (new connections wait in the listen backlog)");
            backoffMillis = BACKOFF_FIRST_MILLIS;
        } else {
            backoffMillis = Math.min(backoffMillis * 2, BACKOFF_MAX_MILLIS);
        }
        TcpConnections.TIMER.schedule(() -> {
            try {
                acceptor.execute(retry);
            } catch (RejectedExecutionException e) {
                stopped.countDown(); // the reactor is closing
            }
        }, backoffMillis, TimeUnit.MILLISECONDS);
    }

    private void retryAccept() {
        if (closing) {
            stopped.countDown(); // no accept is posted while backing off
            return;
        }
        acceptor.submit(this);
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (ErrnoException ignored) {
            // nothing more to do for a connection we never used
        }
    }

    @Override
    public void close() throws IOException {
        if (closing) {
            return;
        }
        closing = true;
        connections.listenerClosed();
        // shutdown wakes the accept posted on the ring with EINVAL; its completion sees closing
        Libc.shutdown(fd, Libc.SHUT_RDWR);
        try {
            if (!stopped.await(5, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "the accept on " + port + " did not finish in 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Libc.close(fd);
    }
}
