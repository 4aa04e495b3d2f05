package io.sanport.client;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.Native;
import io.sanport.bindings.libc.FdStream;
import io.sanport.bindings.libc.Libc;
import io.sanport.nvme.tls.TlsEndpoint;
import io.sanport.nvme.tls.TlsHandshake;
import io.sanport.nvme.tls.TlsKey;
import io.sanport.nvme.tls.TlsRelay;
import io.sanport.nvme.tls.TlsSession;
import io.sanport.nvme.tls.TlsRecords;
import io.sanport.bindings.libc.KernelTls;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A blocking TCP socket reached through FFM: socket(2), connect(2), read(2), sendmsg(2) with MSG_NOSIGNAL.
 * <p>
 * Why not NIO: a {@code SocketChannel} only moves bytes through {@code ByteBuffer}s, so every I/O on a caller's
 * {@code MemorySegment} would need a fresh buffer view. Here the data-path calls take raw addresses (the pointer
 * parameters are declared {@code long}), so a read lands in the caller's segment and a write leaves from it with
 * no copy and no allocation. The price is that the callers check bounds; {@link NvmeTcpQueue} does.
 * <p>
 * Threads: one reader ({@link #recvFully}) and one sender at a time ({@link #sendmsg}, serialised by the queue's
 * send lock) may use a socket concurrently; each passes its own errno capture segment.
 */
final class TcpSocket implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("sanport.client.tls");
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int IPPROTO_TCP = 6;
    private static final int TCP_NODELAY = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_SNDTIMEO = 21;
    private static final int SHUT_RDWR = 2;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int ETIMEDOUT = 110;
    private static final int ECONNREFUSED = 111;

    /** struct msghdr (x86-64 / aarch64): name, namelen, iov, iovlen, control, controllen, flags. */
    static final long MSGHDR_SIZE = 56;
    static final long MSGHDR_IOV = 16;
    static final long MSGHDR_IOVLEN = 24;
    /** struct iovec: base, len. */
    static final long IOVEC_SIZE = 16;

    private static final MethodHandle SOCKET = Native.downcall(Native.LIBC, "socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle CONNECT = Native.downcall(Native.LIBC, "connect",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle SETSOCKOPT = Native.downcall(Native.LIBC, "setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle READ = Native.downcall(Native.LIBC, "read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG), Native.CAPTURE_ERRNO);
    private static final MethodHandle READV = Native.downcall(Native.LIBC, "readv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle SENDMSG = Native.downcall(Native.LIBC, "sendmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle SHUTDOWN = Native.downcall(Native.LIBC, "shutdown",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = Native.downcall(Native.LIBC, "close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private final int fd;
    private final String peer;
    private volatile boolean closed;
    private volatile boolean kernelTls; // the kernel carries TLS records: EIO on read is a non-data record

    private TcpSocket(int fd, String peer) {
        this.fd = fd;
        this.peer = peer;
    }

    /** Connects with TCP_NODELAY (as the Linux host does); {@code timeoutMillis} bounds the handshake. */
    static TcpSocket connect(InetSocketAddress address, int timeoutMillis) throws IOException {
        if (address.isUnresolved()) {
            throw new IOException("cannot resolve " + address.getHostString());
        }
        String peer = address.getAddress().getHostAddress() + ":" + address.getPort();
        boolean v6 = address.getAddress() instanceof Inet6Address;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            int fd = (int) SOCKET.invokeExact(st, v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new ErrnoException("socket", peer, Native.errno(st));
            }
            TcpSocket s = new TcpSocket(fd, peer);
            try {
                s.setIntOption(arena, st, IPPROTO_TCP, TCP_NODELAY, 1);
                // Linux bounds a blocking connect(2) by SO_SNDTIMEO
                s.setTimeout(arena, st, SO_SNDTIMEO, timeoutMillis);
                MemorySegment sa = sockaddr(arena, address, v6);
                int rc = (int) CONNECT.invokeExact(st, fd, sa, (int) sa.byteSize());
                if (rc != 0) {
                    int errno = Native.errno(st);
                    if (errno == Errno.EAGAIN || errno == 115 /* EINPROGRESS */ || errno == ETIMEDOUT) {
                        throw new SocketTimeoutException("connect " + peer + ": no answer within " + timeoutMillis + " ms");
                    }
                    throw new ErrnoException("connect", peer, errno,
                            errno == ECONNREFUSED ? "is an NVMe/TCP port listening there?" : null);
                }
                s.setTimeout(arena, st, SO_SNDTIMEO, 0);
                return s;
            } catch (Throwable t) {
                s.close();
                throw t;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** What a TLS connection needs: the configured PSK and the NQNs of its identity. */
    record Tls(TlsKey key, String hostNqn, String subNqn) { }

    /**
     * Connects as {@link #connect}, does the TLS 1.3 handshake with {@code tls}'s PSK, and returns a socket the
     * queue reads and writes as it would a plain TCP socket: the TCP socket itself when the kernel's TLS (kTLS)
     * takes the records ({@link TlsRecords}), else the plaintext end of a {@link TlsRelay} whose threads encrypt
     * and decrypt. Closing it ends the session and closes the TCP socket.
     */
    static TcpSocket connectTls(InetSocketAddress address, int timeoutMillis, Tls tls) throws IOException {
        TlsRecords records = TlsRecords.configured();
        TcpSocket net = connect(address, timeoutMillis);
        FdStream netStream = new FdStream(net.fd);
        TlsEndpoint netEnd = endpoint(net, netStream);
        TlsSession session;
        int[] pair;
        try {
            session = TlsHandshake.connect(netEnd, tls.key(), tls.hostNqn(), tls.subNqn(), timeoutMillis);
        } catch (IOException e) {
            netStream.close();
            net.close();
            throw new IOException("TLS handshake with " + net.peer + ": " + e.getMessage()
                    + " (is TLS on there, with this host's key and --tls-key-derivation?)", e);
        } catch (RuntimeException e) {
            netStream.close();
            net.close();
            throw e;
        }
        try {
            if (records.toKernel(session, () -> KernelTls.attachOrMissing(net.fd, net.peer),
                    k -> KernelTls.installBoth(net.fd, k.txKey(), k.txIv(), k.rxKey(), k.rxIv(), net.peer))) {
                netStream.close();
                net.kernelTls = true;
                LOG.log(System.Logger.Level.INFO, "TLS 1.3 (" + session.cipherName() + ") with " + net.peer
                        + ": records in the kernel (kTLS)");
                return net;
            }
            pair = Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        } catch (IOException | RuntimeException e) {
            netStream.close();
            net.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "TLS 1.3 (" + session.cipherName() + ") with " + net.peer
                + ": records in Java (relay)");
        TcpSocket relay = new TcpSocket(pair[1], net.peer);
        FdStream relayStream = new FdStream(pair[1]);
        TlsRelay.start(session, netEnd, endpoint(relay, relayStream), net.peer, () -> {
            netStream.close();
            relayStream.close();
            net.close();
            relay.close();
        });
        return new TcpSocket(pair[0], net.peer);
    }

    private static TlsEndpoint endpoint(TcpSocket s, FdStream stream) {
        return new TlsEndpoint() {
            @Override
            public java.io.InputStream in() { return stream.in(); }

            @Override
            public java.io.OutputStream out() { return stream.out(); }

            @Override
            public void shutdown() { s.shutdown(); }
        };
    }

    private static MemorySegment sockaddr(Arena arena, InetSocketAddress address, boolean v6) {
        byte[] ip = address.getAddress().getAddress();
        MemorySegment sa = arena.allocate(v6 ? 28 : 16, 8);
        sa.set(JAVA_SHORT, 0, (short) (v6 ? AF_INET6 : AF_INET));
        sa.set(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2, (short) address.getPort());
        if (v6) {
            MemorySegment.copy(MemorySegment.ofArray(ip), 0, sa, 8, 16);
            sa.set(JAVA_INT, 24, ((Inet6Address) address.getAddress()).getScopeId());
        } else {
            assert address.getAddress() instanceof Inet4Address;
            MemorySegment.copy(MemorySegment.ofArray(ip), 0, sa, 4, 4);
        }
        return sa;
    }

    private void setIntOption(Arena arena, MemorySegment st, int level, int name, int value) throws Throwable {
        MemorySegment v = arena.allocateFrom(JAVA_INT, value);
        if ((int) SETSOCKOPT.invokeExact(st, fd, level, name, v, 4) != 0) {
            throw new ErrnoException("setsockopt", peer, Native.errno(st));
        }
    }

    private void setTimeout(Arena arena, MemorySegment st, int name, int millis) throws Throwable {
        MemorySegment tv = arena.allocate(16, 8); // struct timeval
        tv.set(JAVA_LONG, 0, millis / 1000);
        tv.set(JAVA_LONG, 8, (millis % 1000) * 1000L);
        if ((int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, name, tv, 16) != 0) {
            throw new ErrnoException("setsockopt", peer, Native.errno(st));
        }
    }

    /** Bounds each blocking read; 0 waits forever. Used while waiting for the ICResp. */
    void receiveTimeout(int millis) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            setTimeout(arena, arena.allocate(Native.CAPTURE_LAYOUT), SO_RCVTIMEO, millis);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Reads exactly {@code length} bytes to {@code address}. */
    void recvFully(long address, long length, MemorySegment captureState) throws IOException {
        while (length > 0) {
            long n = read(address, length, captureState);
            address += n;
            length -= n;
        }
    }

    /**
     * One read(2) of up to {@code length} bytes to {@code address}: whatever the socket has, blocking only while it
     * has nothing.
     *
     * @return bytes read, at least 1
     */
    long read(long address, long length, MemorySegment captureState) throws IOException {
        while (true) {
            long n;
            try {
                n = (long) READ.invokeExact(captureState, fd, address, length);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (n > 0) {
                return n;
            }
            checkReadFailure(n, captureState);
        }
    }

    /**
     * One readv(2) over the first {@code count} iovecs at {@code iov}; like {@link #read}, it returns what the
     * socket had, at least 1 byte. The caller advances the iovecs.
     */
    long readv(MemorySegment iov, int count, MemorySegment captureState) throws IOException {
        while (true) {
            long n;
            try {
                n = (long) READV.invokeExact(captureState, fd, iov.address(), count);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (n > 0) {
                return n;
            }
            checkReadFailure(n, captureState);
        }
    }

    /** Throws for end of stream or a read error; returns for EINTR (read again). */
    private void checkReadFailure(long n, MemorySegment captureState) throws IOException {
        if (n == 0) {
            throw new EOFException(closed ? "socket to " + peer + " closed" : "connection closed by " + peer);
        }
        int errno = Native.errno(captureState);
        if (errno == Errno.EINTR) {
            return;
        }
        if (errno == Errno.EAGAIN) {
            throw new SocketTimeoutException("no data from " + peer + " within the receive timeout");
        }
        throw new ErrnoException("read", peer, errno, errno == Errno.EIO && kernelTls
                ? "under kTLS a TLS record that is not application data (an alert, close_notify or a KeyUpdate, "
                + "which the kernel does not handle) ends the connection" : null);
    }

    /**
     * Sends every byte described by the first {@code count} iovecs of {@code iov} (which {@code msghdr} points
     * at), rewriting them as partial sends advance, so the caller refills them each time.
     */
    void sendmsg(MemorySegment msghdr, MemorySegment iov, int count, MemorySegment captureState) throws IOException {
        int first = 0;
        msghdr.set(JAVA_LONG, MSGHDR_IOV, iov.address());
        msghdr.set(JAVA_LONG, MSGHDR_IOVLEN, count);
        while (first < count) {
            long n;
            try {
                n = (long) SENDMSG.invokeExact(captureState, fd, msghdr.address(), MSG_NOSIGNAL);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (n < 0) {
                int errno = Native.errno(captureState);
                if (errno == Errno.EINTR) {
                    continue;
                }
                throw new ErrnoException("send", peer, errno);
            }
            // drop the iovecs that went out entirely and trim the one cut in the middle
            while (first < count && n > 0) {
                long base = iov.get(JAVA_LONG, first * IOVEC_SIZE);
                long len = iov.get(JAVA_LONG, first * IOVEC_SIZE + 8);
                if (n >= len) {
                    n -= len;
                    first++;
                } else {
                    iov.set(JAVA_LONG, first * IOVEC_SIZE, base + n);
                    iov.set(JAVA_LONG, first * IOVEC_SIZE + 8, len - n);
                    n = 0;
                }
            }
            while (first < count && iov.get(JAVA_LONG, first * IOVEC_SIZE + 8) == 0) {
                first++;
            }
            msghdr.set(JAVA_LONG, MSGHDR_IOV, iov.address() + first * IOVEC_SIZE);
            msghdr.set(JAVA_LONG, MSGHDR_IOVLEN, count - first);
        }
    }

    String peer() {
        return peer;
    }

    /** Wakes a reader blocked in {@link #read} and fails a blocked sender; the fd stays open until close. */
    void shutdown() {
        try {
            int ignored = (int) SHUTDOWN.invokeExact(fd, SHUT_RDWR);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
