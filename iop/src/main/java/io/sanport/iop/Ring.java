package io.sanport.iop;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Iovec;
import io.sanport.bindings.uring.IoUring;
import io.sanport.bindings.uring.IoUringGeteventsArg;
import io.sanport.bindings.uring.IoUringParams;
import io.sanport.bindings.uring.KernelTimespec;
import io.sanport.bindings.uring.Liburing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One io_uring instance (liburing's {@code struct io_uring}), owned by one reactor thread: created, used and
 * closed on it, in its confined arena. Single issuer and cooperative task running where the kernel has them.
 */
public final class Ring implements AutoCloseable {
    /**
     * Setup flags tried first; a kernel that refuses them (EINVAL, before 6.1) gets a plain ring. Deferred task
     * running completes I/O in our own io_uring_enter instead of in an interrupting task_work: measured on a loop
     * device here at 4k randread, QD1 79k IOPS deferred vs 72k plain vs 31k cooperative; QD32 288k vs 245k.
     * -Dsanport.uring.setup=plain|coop|defer overrides it, for measuring.
     */
    static final int PREFERRED_FLAGS = preferredFlags(System.getProperty("sanport.uring.setup", "defer"));

    static int preferredFlags(String mode) {
        return switch (mode) {
            case "plain" -> Liburing.IORING_SETUP_CLAMP;
            case "defer" -> Liburing.IORING_SETUP_SINGLE_ISSUER | Liburing.IORING_SETUP_DEFER_TASKRUN
                    | Liburing.IORING_SETUP_CLAMP;
            default -> Liburing.IORING_SETUP_SINGLE_ISSUER | Liburing.IORING_SETUP_COOP_TASKRUN
                    | Liburing.IORING_SETUP_TASKRUN_FLAG | Liburing.IORING_SETUP_CLAMP;
        };
    }

    private final MemorySegment ring;
    private final SubmissionQueue sq;
    private final CompletionQueue cq;
    private final int setupFlags;
    private final int features;
    private final int ringFd;
    private boolean buffersRegistered;
    private boolean filesRegistered;
    private boolean closed;
    private final MemorySegment oneFd; // the argument of a one-slot files update

    private Ring(MemorySegment ring, int setupFlags, MemorySegment oneFd) {
        this.ring = ring;
        this.features = IoUring.features(ring);
        this.ringFd = IoUring.ring_fd(ring);
        this.oneFd = oneFd;
        this.setupFlags = setupFlags;
        this.sq = new SubmissionQueue(ring, setupFlags);
        this.cq = new CompletionQueue(ring, setupFlags);
    }

    /** Sets up a ring with {@code entries} SQ entries and a CQ twice that size, in {@code arena}. */
    public static Ring open(Arena arena, int entries) throws ErrnoException {
        return open(arena, entries, 0);
    }

    /**
     * As {@link #open(Arena, int)}, with setup flags the ring cannot do without, kept on the plain fallback too:
     * IORING_SETUP_SQE128 | IORING_SETUP_CQE32 for NVMe passthrough (nvme_ns_uring_cmd refuses other rings).
     */
    public static Ring open(Arena arena, int entries, int requiredFlags) throws ErrnoException {
        return open(arena, entries, 2 * entries, requiredFlags);
    }

    /**
     * As {@link #open(Arena, int, int)} with a CQ of {@code cqEntries} (a power of two, at least twice
     * {@code entries}; IORING_SETUP_CQSIZE when larger). The kernel may clamp it: see {@link CompletionQueue#entries()}.
     */
    public static Ring open(Arena arena, int entries, int cqEntries, int requiredFlags) throws ErrnoException {
        if (cqEntries > 2 * entries) {
            requiredFlags |= Liburing.IORING_SETUP_CQSIZE;
        }
        String why = Liburing.unavailableReason();
        if (why != null) {
            throw new UnsupportedOperationException(why);
        }
        MemorySegment ring = arena.allocate(IoUring.LAYOUT);
        MemorySegment params = arena.allocate(IoUringParams.LAYOUT);
        int flags = PREFERRED_FLAGS | requiredFlags;
        IoUringParams.flags(params, flags);
        IoUringParams.cq_entries(params, cqEntries);
        int rc = Liburing.io_uring_queue_init_params(entries, ring, params);
        if (rc == -Errno.EINVAL) {
            flags = Liburing.IORING_SETUP_CLAMP | requiredFlags;
            params.fill((byte) 0);
            IoUringParams.flags(params, flags);
            IoUringParams.cq_entries(params, cqEntries);
            rc = Liburing.io_uring_queue_init_params(entries, ring, params);
        }
        if (rc < 0) {
            String hint = switch (-rc) {
                case Errno.EPERM -> "io_uring is disabled: check /proc/sys/kernel/io_uring_disabled, or a seccomp "
                        + "profile (containers) that blocks io_uring_setup";
                case Errno.ENOSYS -> "this kernel has no io_uring (Linux >= 5.19 is needed)";
                case Errno.ENOMEM -> "not enough locked memory for the rings: raise RLIMIT_MEMLOCK (ulimit -l)";
                default -> null;
            };
            throw new ErrnoException("io_uring_queue_init_params", entries + " entries", -rc, hint);
        }
        return new Ring(ring, flags, arena.allocate(JAVA_INT));
    }

    public SubmissionQueue sq() { return sq; }
    public CompletionQueue cq() { return cq; }
    public int setupFlags() { return setupFlags; }
    public int ringFd() { return ringFd; }
    /** io_uring_params.features the kernel reported at setup (IORING_FEAT_*). */
    public int features() { return features; }
    /** Whether waits may take a min_wait_usec (IORING_FEAT_MIN_TIMEOUT, Linux 6.12). */
    public boolean hasMinWait() { return (features & Liburing.IORING_FEAT_MIN_TIMEOUT) != 0; }

    /** io_uring_submit(): hands the written entries to the kernel; returns how many, or -errno. */
    public int submit() {
        sq.publish();
        return Liburing.io_uring_submit(ring);
    }

    /**
     * io_uring_submit_and_get_events(): submits and runs completions that are ready, without blocking, so a
     * deferred-task-running ring makes progress while the reactor is busy with tasks.
     */
    public int submitAndGetEvents() {
        sq.publish();
        return Liburing.io_uring_submit_and_get_events(ring);
    }

    /** io_uring_submit_and_wait(): submits, then blocks until {@code waitNr} completions are ready. */
    public int submitAndWait(int waitNr) {
        sq.publish();
        return Liburing.io_uring_submit_and_wait(ring, waitNr);
    }

    /**
     * Submits, then blocks until {@code waitNr} completions are ready, or, once the min_wait of {@code arg}
     * (made by {@link #minWaitArg}, counted from the start of the wait) has passed, until at least one is. Only
     * on a ring with {@link #hasMinWait()}. Returns what io_uring_enter returns: submitted entries, or -errno
     * (-ETIME when arg's overall timeout passed with no completion).
     */
    public int submitAndWaitMin(int waitNr, MemorySegment arg) {
        int toSubmit = sq.flush();
        return Liburing.io_uring_enter2(ringFd, toSubmit, waitNr,
                Liburing.IORING_ENTER_GETEVENTS | Liburing.IORING_ENTER_EXT_ARG, arg, ARG_SIZE);
    }

    private static final long ARG_SIZE = IoUringGeteventsArg.LAYOUT.byteSize();

    /**
     * A {@code struct io_uring_getevents_arg} in {@code arena} for {@link #submitAndWaitMin}: a min_wait of
     * {@code minWaitMicros} and an overall timeout of {@code timeoutNanos}. The overall timeout matters: with
     * none, the kernel ends the wait when min_wait passes even with no completion (io_cqring_min_timer_wakeup);
     * with one, it then waits on for the first completion, or until that timeout (-ETIME).
     */
    public static MemorySegment minWaitArg(Arena arena, int minWaitMicros, long timeoutNanos) {
        MemorySegment ts = arena.allocate(KernelTimespec.LAYOUT);
        KernelTimespec.tv_sec(ts, timeoutNanos / 1_000_000_000L);
        KernelTimespec.tv_nsec(ts, timeoutNanos % 1_000_000_000L);
        MemorySegment arg = arena.allocate(IoUringGeteventsArg.LAYOUT);
        IoUringGeteventsArg.min_wait_usec(arg, minWaitMicros);
        IoUringGeteventsArg.ts(arg, ts.address());
        return arg;
    }

    /**
     * Registers {@code region} as fixed buffer 0, so READ_FIXED / WRITE_FIXED anywhere inside it skip the
     * per-I/O page pinning. The kernel pins the pages; without CAP_IPC_LOCK they count against RLIMIT_MEMLOCK.
     */
    public void registerBuffer(MemorySegment region, Arena arena) throws ErrnoException {
        MemorySegment iov = arena.allocate(Iovec.LAYOUT);
        Iovec.iov_base(iov, region);
        Iovec.iov_len(iov, region.byteSize());
        int rc = Liburing.io_uring_register_buffers(ring, iov, 1);
        if (rc < 0) {
            throw new ErrnoException("io_uring_register_buffers", region.byteSize() / 1024 + " KiB", -rc,
                    -rc == Errno.ENOMEM || -rc == Errno.EPERM ? MemoryLock.hint(region.byteSize()) : null);
        }
        buffersRegistered = true;
    }

    /** Registers the fds as fixed files 0..n-1: no fdget/fdput per I/O. */
    public void registerFiles(int[] fds, Arena arena) throws ErrnoException {
        MemorySegment array = arena.allocate(JAVA_INT, fds.length);
        for (int i = 0; i < fds.length; i++) {
            array.setAtIndex(JAVA_INT, i, fds[i]);
        }
        int rc = Liburing.io_uring_register_files(ring, array, fds.length);
        if (rc < 0) {
            throw new ErrnoException("io_uring_register_files", fds.length + " files", -rc);
        }
        filesRegistered = true;
    }

    /**
     * Registers a fixed-file table of {@code slots} empty slots (Linux 5.19), filled and emptied one at a time by
     * {@link #updateFile} while the ring runs: devices come and go without re-registering the others.
     */
    public void registerSparseFiles(int slots) throws ErrnoException {
        int rc = Liburing.io_uring_register_files_sparse(ring, slots);
        if (rc < 0) {
            throw new ErrnoException("io_uring_register_files_sparse", slots + " slots", -rc,
                    -rc == Errno.EINVAL ? "Linux >= 5.19 is needed" : null);
        }
        filesRegistered = true;
    }

    /**
     * Puts {@code fd} in fixed-file slot {@code slot}, or empties it with -1. The kernel keeps its own reference
     * to the file while requests that used the slot are in flight, but the caller drains them first anyway.
     */
    public void updateFile(int slot, int fd) throws ErrnoException {
        oneFd.set(JAVA_INT, 0, fd);
        int rc = Liburing.io_uring_register_files_update(ring, slot, oneFd, 1);
        if (rc < 0) {
            throw new ErrnoException("io_uring_register_files_update", "slot " + slot + (fd < 0 ? " (empty)" : ""),
                    -rc);
        }
    }

    /** Unregisters and tears the ring down; the caller has drained it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (buffersRegistered) {
            Liburing.io_uring_unregister_buffers(ring);
        }
        if (filesRegistered) {
            Liburing.io_uring_unregister_files(ring);
        }
        Liburing.io_uring_queue_exit(ring);
    }
}
