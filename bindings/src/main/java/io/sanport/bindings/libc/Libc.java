package io.sanport.bindings.libc;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The libc functions and macros sanport uses ({@code <fcntl.h>, <unistd.h>, <sys/ioctl.h>, <linux/fs.h>,
 * <sys/mman.h>, <sys/resource.h>, <sys/eventfd.h>, <string.h>, <sys/socket.h>, <netinet/in.h>,
 * <netinet/tcp.h>}), as listed in native-headers/libc.bind.
 * Every call captures errno; the checked forms throw {@link ErrnoException} naming the call and its subject.
 * Control path only: the data path goes through io_uring.
 */
public final class Libc {
    private Libc() {}

    // <fcntl.h>
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_DIRECT = 040000;
    public static final int O_CLOEXEC = 02000000;
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;
    // <sys/stat.h>
    public static final int S_IFMT = 0170000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFREG = 0100000;
    // <linux/fs.h>: block device ioctls
    public static final long BLKGETSIZE64 = 0x80081272L;
    public static final long BLKSSZGET = 0x1268;
    public static final long BLKPBSZGET = 0x127b;
    public static final long BLKIOOPT = 0x1279;
    public static final long BLKDISCARD = 0x1277;
    public static final long BLKZEROOUT = 0x127f;
    public static final int RWF_DSYNC = 0x02;
    // <fcntl.h>: posix_fadvise
    public static final int POSIX_FADV_DONTNEED = 4;
    // <sys/mman.h>
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_HUGETLB = 0x40000;
    public static final int MFD_CLOEXEC = 1;
    // <sys/resource.h>
    public static final int RLIMIT_NOFILE = 7;
    public static final int RLIMIT_MEMLOCK = 8;
    public static final long RLIM_INFINITY = -1L;
    // <sys/eventfd.h>
    public static final int EFD_CLOEXEC = O_CLOEXEC;
    public static final int EFD_NONBLOCK = 04000;
    // <sys/socket.h>, <netinet/in.h>, <netinet/tcp.h>: the NVMe/TCP listener
    public static final int AF_UNIX = 1;
    public static final int MSG_PEEK = 2;
    public static final int AF_INET = 2;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_CLOEXEC = O_CLOEXEC;
    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_KEEPALIVE = 9;
    public static final int IPPROTO_TCP = 6;
    public static final int TCP_NODELAY = 1;
    public static final int TCP_KEEPIDLE = 4;
    public static final int TCP_KEEPINTVL = 5;
    public static final int TCP_KEEPCNT = 6;
    public static final int TCP_USER_TIMEOUT = 18;
    public static final int SOMAXCONN = 4096;
    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;
    public static final int SHUT_RDWR = 2;
    public static final int MSG_WAITALL = 0x100;
    public static final int MSG_NOSIGNAL = 0x4000;
    // <netinet/tcp.h>, <bits/socket.h>, <linux/tls.h>: the kernel's TLS record layer (kTLS)
    public static final int TCP_ULP = 31;
    public static final int SOL_TLS = 282;
    public static final int TLS_TX = 1;
    public static final int TLS_RX = 2;
    public static final int TLS_RX_EXPECT_NO_PAD = 4;
    public static final int TLS_1_3_VERSION = 0x0304;
    public static final int TLS_CIPHER_AES_GCM_128 = 51;
    public static final int TLS_CIPHER_AES_GCM_256 = 52;

    private static final Linker.Option ERRNO = Native.CAPTURE_ERRNO;
    private static final MethodHandle OPEN = Native.downcall(Native.LIBC, "open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = Native.downcall(Native.LIBC, "close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle FSTAT = Native.downcall(Native.LIBC, "fstat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), ERRNO);
    private static final MethodHandle IOCTL = Native.downcall(Native.LIBC, "ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FALLOCATE = Native.downcall(Native.LIBC, "fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), ERRNO);
    private static final MethodHandle POSIX_FADVISE = Native.downcall(Native.LIBC, "posix_fadvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FTRUNCATE = Native.downcall(Native.LIBC, "ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO);
    private static final MethodHandle MMAP = Native.downcall(Native.LIBC, "mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO);
    private static final MethodHandle MUNMAP = Native.downcall(Native.LIBC, "munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle MLOCK = Native.downcall(Native.LIBC, "mlock",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle MUNLOCK = Native.downcall(Native.LIBC, "munlock",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle GETRLIMIT = Native.downcall(Native.LIBC, "getrlimit",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), ERRNO);
    private static final MethodHandle SETRLIMIT = Native.downcall(Native.LIBC, "setrlimit",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), ERRNO);
    private static final MethodHandle EVENTFD = Native.downcall(Native.LIBC, "eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle MEMFD_CREATE = Native.downcall(Native.LIBC, "memfd_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle WRITE = Native.downcall(Native.LIBC, "write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle READ = Native.downcall(Native.LIBC, "read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle RECV = Native.downcall(Native.LIBC, "recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), ERRNO);
    private static final MethodHandle SOCKETPAIR = Native.downcall(Native.LIBC, "socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), ERRNO);
    private static final MethodHandle SOCKET = Native.downcall(Native.LIBC, "socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle BIND = Native.downcall(Native.LIBC, "bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle LISTEN = Native.downcall(Native.LIBC, "listen",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle SETSOCKOPT = Native.downcall(Native.LIBC, "setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle GETSOCKNAME = Native.downcall(Native.LIBC, "getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle GETPEERNAME = Native.downcall(Native.LIBC, "getpeername",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle SHUTDOWN = Native.downcall(Native.LIBC, "shutdown",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle STRERROR = Native.downcall(Native.LIBC, "strerror",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle STRERRORNAME_NP = Native.downcall(Native.LIBC, "strerrorname_np",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    /** Throws when a call returned -1; otherwise passes its result through. */
    private static long check(long result, MemorySegment state, String call, Object subject) throws ErrnoException {
        if (result == -1) {
            throw new ErrnoException(call, subject, Native.errno(state));
        }
        return result;
    }

    private static MemorySegment state(Arena arena) {
        return arena.allocate(Native.CAPTURE_LAYOUT);
    }

    private static RuntimeException fatal(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            return (int) check((int) OPEN.invokeExact(st, arena.allocateFrom(path), flags, mode), st, "open", path);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static void close(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) CLOSE.invokeExact(st, fd), st, "close", "fd " + fd);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** Fills {@code stat} (a {@link Stat#LAYOUT} segment). */
    public static void fstat(int fd, MemorySegment stat, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) FSTAT.invokeExact(st, fd, stat), st, "fstat", subject);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** ioctl with a pointer argument; returns the ioctl's result. */
    public static int ioctl(int fd, long request, MemorySegment arg, String call, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            return (int) check((int) IOCTL.invokeExact(st, fd, request, arg), st, call, subject);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static void fallocate(int fd, int mode, long offset, long length, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) FALLOCATE.invokeExact(st, fd, mode, offset, length), st, "fallocate", subject);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** posix_fadvise(2), which returns its error number instead of setting errno. */
    public static void posixFadvise(int fd, long offset, long length, int advice, Object subject) throws ErrnoException {
        int r;
        try {
            r = (int) POSIX_FADVISE.invokeExact(fd, offset, length, advice);
        } catch (Throwable t) {
            throw fatal(t);
        }
        if (r != 0) {
            throw new ErrnoException("posix_fadvise", subject, r);
        }
    }

    public static void ftruncate(int fd, long length, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) FTRUNCATE.invokeExact(st, fd, length), st, "ftruncate", subject);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** mmap; returns the mapping as a segment of {@code length} bytes (unbounded lifetime: the caller munmaps). */
    public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset, Object subject)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            MemorySegment address = (MemorySegment) MMAP.invokeExact(st, MemorySegment.NULL, length, prot, flags, fd, offset);
            if (address.address() == -1L) {
                throw new ErrnoException("mmap", subject, Native.errno(st));
            }
            return address.reinterpret(length);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static void munmap(MemorySegment mapping) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) MUNMAP.invokeExact(st, mapping, mapping.byteSize()), st, "munmap", null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static void mlock(MemorySegment region) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) MLOCK.invokeExact(st, region, region.byteSize()), st, "mlock", region.byteSize() + " bytes");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static void munlock(MemorySegment region) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) MUNLOCK.invokeExact(st, region, region.byteSize()), st, "munlock", region.byteSize() + " bytes");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** Returns {soft, hard}. */
    public static long[] getrlimit(int resource) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            MemorySegment limit = arena.allocate(Rlimit.LAYOUT);
            check((int) GETRLIMIT.invokeExact(st, resource, limit), st, "getrlimit", resource);
            return new long[] {Rlimit.rlim_cur(limit), Rlimit.rlim_max(limit)};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static void setrlimit(int resource, long soft, long hard) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            MemorySegment limit = arena.allocate(Rlimit.LAYOUT);
            Rlimit.rlim_cur(limit, soft);
            Rlimit.rlim_max(limit, hard);
            check((int) SETRLIMIT.invokeExact(st, resource, limit), st, "setrlimit", resource);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int eventfd(int initval, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            return (int) check((int) EVENTFD.invokeExact(st, initval, flags), st, "eventfd", null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int memfd_create(String name, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            return (int) check((int) MEMFD_CREATE.invokeExact(st, arena.allocateFrom(name), flags), st, "memfd_create", name);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** write(2) from a native buffer; used to signal an eventfd. Returns bytes written or -errno. */
    public static long write(int fd, MemorySegment buffer, MemorySegment captureState) {
        try {
            long n = (long) WRITE.invokeExact(captureState, fd, buffer, buffer.byteSize());
            return n >= 0 ? n : -Native.errno(captureState);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** read(2) into a native buffer (blocking descriptors: the TLS relay). Returns bytes read, 0 at EOF, or -errno. */
    public static long read(int fd, MemorySegment buffer, MemorySegment captureState) {
        try {
            long n = (long) READ.invokeExact(captureState, fd, buffer, buffer.byteSize());
            return n >= 0 ? n : -Native.errno(captureState);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** recv(2) with {@code flags} (MSG_PEEK) into a native buffer. Returns bytes, 0 at EOF, or -errno. */
    public static long recv(int fd, MemorySegment buffer, int flags, MemorySegment captureState) {
        try {
            long n = (long) RECV.invokeExact(captureState, fd, buffer, buffer.byteSize(), flags);
            return n >= 0 ? n : -Native.errno(captureState);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** socketpair(2): the two connected descriptors. */
    public static int[] socketpair(int domain, int type, int protocol) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            MemorySegment sv = arena.allocate(JAVA_INT, 2);
            check((int) SOCKETPAIR.invokeExact(st, domain, type, protocol, sv), st, "socketpair", null);
            return new int[] {sv.getAtIndex(JAVA_INT, 0), sv.getAtIndex(JAVA_INT, 1)};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static int socket(int domain, int type, int protocol) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            return (int) check((int) SOCKET.invokeExact(st, domain, type, protocol), st, "socket", null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** bind(2) to a {@link SockaddrIn} (or another sockaddr of {@code addr.byteSize()} bytes). */
    public static void bind(int fd, MemorySegment addr, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) BIND.invokeExact(st, fd, addr, (int) addr.byteSize()), st, "bind", subject);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static void listen(int fd, int backlog, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) LISTEN.invokeExact(st, fd, backlog), st, "listen", subject);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** setsockopt(2) with an int value (SO_REUSEADDR, TCP_NODELAY...). */
    public static void setsockopt(int fd, int level, int name, int value, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            MemorySegment v = arena.allocateFrom(JAVA_INT, value);
            check((int) SETSOCKOPT.invokeExact(st, fd, level, name, v, (int) v.byteSize()), st, "setsockopt", subject);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** setsockopt(2) with a struct or string value of {@code value.byteSize()} bytes (TCP_ULP, TLS_TX...). */
    public static void setsockopt(int fd, int level, int name, MemorySegment value, String call, Object subject)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) SETSOCKOPT.invokeExact(st, fd, level, name, value, (int) value.byteSize()), st, call, subject);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** getsockname(2) into {@code addr} (its size is the buffer length); returns the address length. */
    public static int getsockname(int fd, MemorySegment addr) throws ErrnoException {
        return name(GETSOCKNAME, "getsockname", fd, addr);
    }

    /** getpeername(2) into {@code addr}; returns the address length. */
    public static int getpeername(int fd, MemorySegment addr) throws ErrnoException {
        return name(GETPEERNAME, "getpeername", fd, addr);
    }

    private static int name(MethodHandle handle, String call, int fd, MemorySegment addr) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) addr.byteSize());
            check((int) handle.invokeExact(st, fd, addr, len), st, call, "fd " + fd);
            return len.get(JAVA_INT, 0);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** shutdown(2); wakes a receive posted on the socket. */
    public static void shutdown(int fd, int how) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            check((int) SHUTDOWN.invokeExact(st, fd, how), st, "shutdown", "fd " + fd);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    public static String strerror(int errnum) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errnum);
            return s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }

    /** The errno's symbolic name ("EINVAL"), or null when glibc has none. */
    public static String strerrorname_np(int errnum) {
        try {
            MemorySegment s = (MemorySegment) STRERRORNAME_NP.invokeExact(errnum);
            return s.equals(MemorySegment.NULL) ? null : s.reinterpret(64).getString(0);
        } catch (Throwable t) {
            throw fatal(t);
        }
    }
}
