package io.sanport.bindings.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * liburing 2.3 ({@code <liburing.h>}, Debian's liburing2) and the macros of {@code <liburing/io_uring.h>}
 * that sanport uses, as listed in native-headers/liburing.bind. The functions return -errno as liburing
 * does; the {@code io_uring_prep_*} helpers, inline in the header, are in Java in iop's SubmissionQueue.
 */
public final class Liburing {
    private Liburing() {}

    public static final String SONAME = "liburing.so.2";
    private static final Optional<SymbolLookup> LIB = Native.library(SONAME);

    /** Why liburing cannot be used here, or null when it can. */
    public static String unavailableReason() {
        return LIB.isPresent() ? null
                : SONAME + " is not installed: install Debian's liburing2 package (apt-get install liburing2)";
    }

    // io_uring_setup(2) flags
    public static final int IORING_SETUP_IOPOLL = 1;
    public static final int IORING_SETUP_SQPOLL = 1 << 1;
    public static final int IORING_SETUP_CQSIZE = 1 << 3;
    public static final int IORING_SETUP_CLAMP = 1 << 4;
    public static final int IORING_SETUP_SUBMIT_ALL = 1 << 7;
    public static final int IORING_SETUP_COOP_TASKRUN = 1 << 8;
    public static final int IORING_SETUP_TASKRUN_FLAG = 1 << 9;
    public static final int IORING_SETUP_SQE128 = 1 << 10;
    public static final int IORING_SETUP_CQE32 = 1 << 11;
    public static final int IORING_SETUP_SINGLE_ISSUER = 1 << 12;
    public static final int IORING_SETUP_DEFER_TASKRUN = 1 << 13;
    // enum io_uring_op
    public static final int IORING_OP_NOP = 0;
    public static final int IORING_OP_READV = 1;
    public static final int IORING_OP_WRITEV = 2;
    public static final int IORING_OP_FSYNC = 3;
    public static final int IORING_OP_READ_FIXED = 4;
    public static final int IORING_OP_WRITE_FIXED = 5;
    public static final int IORING_OP_POLL_ADD = 6;
    public static final int IORING_OP_SENDMSG = 9;
    public static final int IORING_OP_RECVMSG = 10;
    public static final int IORING_OP_TIMEOUT = 11;
    public static final int IORING_OP_ACCEPT = 13;
    public static final int IORING_OP_ASYNC_CANCEL = 14;
    public static final int IORING_OP_LINK_TIMEOUT = 15;
    public static final int IORING_OP_CONNECT = 16;
    public static final int IORING_OP_FALLOCATE = 17;
    public static final int IORING_OP_CLOSE = 19;
    public static final int IORING_OP_READ = 22;
    public static final int IORING_OP_WRITE = 23;
    public static final int IORING_OP_SEND = 26;
    public static final int IORING_OP_RECV = 27;
    public static final int IORING_OP_SHUTDOWN = 34;
    public static final int IORING_OP_URING_CMD = 46;
    public static final int IORING_OP_SEND_ZC = 47;
    public static final int IORING_OP_LAST = 49;
    // sqe->flags
    public static final int IOSQE_FIXED_FILE = 1;
    public static final int IOSQE_IO_DRAIN = 1 << 1;
    public static final int IOSQE_IO_LINK = 1 << 2;
    public static final int IOSQE_ASYNC = 1 << 4;
    public static final int IOSQE_CQE_SKIP_SUCCESS = 1 << 6;
    // sqe->fsync_flags
    public static final int IORING_FSYNC_DATASYNC = 1;
    // sqe->cancel_flags
    public static final int IORING_ASYNC_CANCEL_ALL = 1;
    public static final int IORING_ASYNC_CANCEL_ANY = 1 << 2;
    // cqe->flags
    public static final int IORING_CQE_F_MORE = 1 << 1;
    public static final int IORING_CQE_F_NOTIF = 1 << 3;
    // *sq->kflags
    public static final int IORING_SQ_NEED_WAKEUP = 1;
    public static final int IORING_SQ_CQ_OVERFLOW = 1 << 1;
    public static final int IORING_SQ_TASKRUN = 1 << 2;
    // io_uring_params.features
    public static final int IORING_FEAT_NODROP = 1 << 1;
    public static final int IORING_FEAT_SUBMIT_STABLE = 1 << 2;
    public static final int IORING_FEAT_FAST_POLL = 1 << 5;
    public static final int IORING_FEAT_EXT_ARG = 1 << 8;
    /**
     * Linux 6.12: io_uring_getevents_arg's min_wait_usec is honoured. Newer than the headers bound here, so not
     * in liburing.bind (the probe cannot check it); the value is the kernel's uapi one.
     */
    public static final int IORING_FEAT_MIN_TIMEOUT = 1 << 15;
    // io_uring_enter(2) flags
    public static final int IORING_ENTER_GETEVENTS = 1;
    public static final int IORING_ENTER_EXT_ARG = 1 << 3;

    private static final MethodHandle QUEUE_INIT_PARAMS = Native.downcallOrNull(LIB, "io_uring_queue_init_params",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle QUEUE_EXIT = Native.downcallOrNull(LIB, "io_uring_queue_exit",
            FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle SUBMIT = Native.downcallOrNull(LIB, "io_uring_submit",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SUBMIT_AND_WAIT = Native.downcallOrNull(LIB, "io_uring_submit_and_wait",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SUBMIT_AND_GET_EVENTS = Native.downcallOrNull(LIB, "io_uring_submit_and_get_events",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ENTER2 = Native.downcallOrNull(LIB, "io_uring_enter2",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle GET_EVENTS = Native.downcallOrNull(LIB, "io_uring_get_events",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle REGISTER_BUFFERS = Native.downcallOrNull(LIB, "io_uring_register_buffers",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle UNREGISTER_BUFFERS = Native.downcallOrNull(LIB, "io_uring_unregister_buffers",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle REGISTER_FILES = Native.downcallOrNull(LIB, "io_uring_register_files",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle UNREGISTER_FILES = Native.downcallOrNull(LIB, "io_uring_unregister_files",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle REGISTER_FILES_SPARSE = Native.downcallOrNull(LIB,
            "io_uring_register_files_sparse", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle REGISTER_FILES_UPDATE = Native.downcallOrNull(LIB,
            "io_uring_register_files_update", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle REGISTER_RING_FD = Native.downcallOrNull(LIB, "io_uring_register_ring_fd",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle GET_PROBE_RING = Native.downcallOrNull(LIB, "io_uring_get_probe_ring",
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle FREE_PROBE = Native.downcallOrNull(LIB, "io_uring_free_probe",
            FunctionDescriptor.ofVoid(ADDRESS));

    private static MethodHandle need(MethodHandle handle) {
        if (handle == null) {
            throw new UnsupportedOperationException(unavailableReason() != null ? unavailableReason()
                    : "this liburing lacks a function sanport needs: install liburing2 >= 2.3");
        }
        return handle;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    public static int io_uring_queue_init_params(int entries, MemorySegment ring, MemorySegment params) {
        try {
            return (int) need(QUEUE_INIT_PARAMS).invokeExact(entries, ring, params);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void io_uring_queue_exit(MemorySegment ring) {
        try {
            need(QUEUE_EXIT).invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_submit(MemorySegment ring) {
        try {
            return (int) SUBMIT.invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_submit_and_wait(MemorySegment ring, int waitNr) {
        try {
            return (int) SUBMIT_AND_WAIT.invokeExact(ring, waitNr);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * io_uring_enter2(fd, to_submit, min_complete, flags, sig, sz): the raw syscall; with IORING_ENTER_EXT_ARG,
     * {@code sig} is a {@code struct io_uring_getevents_arg} and {@code sz} its size. Returns -errno.
     */
    public static int io_uring_enter2(int fd, int toSubmit, int minComplete, int flags, MemorySegment sig,
                                      long sz) {
        try {
            return (int) need(ENTER2).invokeExact(fd, toSubmit, minComplete, flags, sig, sz);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_submit_and_get_events(MemorySegment ring) {
        try {
            return (int) SUBMIT_AND_GET_EVENTS.invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_get_events(MemorySegment ring) {
        try {
            return (int) GET_EVENTS.invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_register_buffers(MemorySegment ring, MemorySegment iovecs, int count) {
        try {
            return (int) need(REGISTER_BUFFERS).invokeExact(ring, iovecs, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_unregister_buffers(MemorySegment ring) {
        try {
            return (int) need(UNREGISTER_BUFFERS).invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_register_files(MemorySegment ring, MemorySegment fds, int count) {
        try {
            return (int) need(REGISTER_FILES).invokeExact(ring, fds, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_unregister_files(MemorySegment ring) {
        try {
            return (int) need(UNREGISTER_FILES).invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code io_uring_register_files_sparse(ring, nr)}: a fixed-file table of {@code nr} empty slots (5.19). */
    public static int io_uring_register_files_sparse(MemorySegment ring, int count) {
        try {
            return (int) need(REGISTER_FILES_SPARSE).invokeExact(ring, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code io_uring_register_files_update(ring, off, files, nr)}: replaces slots {@code off..off+nr-1} with the
     * fds in {@code files} (-1 empties a slot); returns how many were updated, or -errno.
     */
    public static int io_uring_register_files_update(MemorySegment ring, int offset, MemorySegment fds, int count) {
        try {
            return (int) need(REGISTER_FILES_UPDATE).invokeExact(ring, offset, fds, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int io_uring_register_ring_fd(MemorySegment ring) {
        try {
            return (int) need(REGISTER_RING_FD).invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The kernel's opcode table for this ring; free it with {@link #io_uring_free_probe}. NULL on failure. */
    public static MemorySegment io_uring_get_probe_ring(MemorySegment ring) {
        try {
            return (MemorySegment) need(GET_PROBE_RING).invokeExact(ring);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void io_uring_free_probe(MemorySegment probe) {
        try {
            need(FREE_PROBE).invokeExact(probe);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
