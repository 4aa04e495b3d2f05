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
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A listening socket (socket, SO_REUSEADDR, bind, listen through FFM) whose accepts run on the first reactor's
 * ring; each accepted connection goes to the next reactor, round robin, and lives there until it closes.
 */
final class TcpListener extends RingOperation implements RemoteTransport.Listener {
    private static final System.Logger LOG = System.getLogger("sanport.tcp");

    private final Port port;
    private final Target target;
    private final Reactor acceptor;
    private final int fd;
    private final int boundPort;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean closing;

    private TcpListener(Port port, Target target, int fd, int boundPort) {
        this.port = port;
        this.target = target;
        this.acceptor = target.reactors().getFirst();
        this.fd = fd;
        this.boundPort = boundPort;
    }

    static TcpListener open(Port port, Target target) throws IOException {
        if (!port.adrfam().equals("ipv4")) {
            throw new IOException("NVMe/TCP over " + port.adrfam() + " is not supported yet; use an IPv4 address");
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
        return sq.prepAccept(fd, 0, 0, Libc.SOCK_CLOEXEC, userData);
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
        if (res >= 0) {
            int conn = res;
            Reactor r = target.nextReactor();
            try {
                r.execute(() -> TcpConnection.start(target, port, r, conn));
            } catch (RejectedExecutionException e) {
                closeQuietly(conn);
            }
        } else if (res != -Errno.EINTR && res != -Errno.EAGAIN && res != -Errno.ECANCELED) {
            LOG.log(System.Logger.Level.WARNING, "accept on " + port + ": " + Errno.describe(-res));
            if (res == -Errno.EBADF || res == -Errno.EINVAL) {
                stopped.countDown();
                return;
            }
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
