package io.sanport.iop;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;

/**
 * RLIMIT_MEMLOCK: registered buffers (io_uring now, RDMA memory regions later) are pinned and count against it
 * unless the process has CAP_IPC_LOCK. Raise the soft limit to the hard one when that is enough; otherwise
 * say how much is needed and how to grant it.
 */
public final class MemoryLock {
    private MemoryLock() {}

    /** Raises the soft limit towards the hard one if {@code bytes} more would not fit; never fails. */
    public static void ensure(long bytes) {
        try {
            long[] limit = Libc.getrlimit(Libc.RLIMIT_MEMLOCK);
            if (limit[0] != Libc.RLIM_INFINITY && Long.compareUnsigned(limit[0], limit[1]) < 0
                    && Long.compareUnsigned(limit[0], bytes) < 0) {
                Libc.setrlimit(Libc.RLIMIT_MEMLOCK, limit[1], limit[1]);
            }
        } catch (ErrnoException e) {
            // the registration that follows reports what is missing
        }
    }

    /** The words for a registration refused for lack of locked memory. */
    public static String hint(long bytes) {
        String current;
        try {
            long[] limit = Libc.getrlimit(Libc.RLIMIT_MEMLOCK);
            current = limit[0] == Libc.RLIM_INFINITY ? "unlimited" : (limit[0] >> 10) + " KiB";
        } catch (ErrnoException e) {
            current = "unknown";
        }
        return "pinning " + (bytes >> 10) + " KiB of I/O buffers needs RLIMIT_MEMLOCK of at least that (now " + current
                + ") or CAP_IPC_LOCK: run as root, raise the limit (ulimit -l, LimitMEMLOCK= in a systemd unit, "
                + "memlock in /etc/security/limits.conf, docker run --ulimit memlock=-1 or --cap-add IPC_LOCK), "
                + "or use fewer/smaller buffers (--buffers, --buffer-size)";
    }
}
