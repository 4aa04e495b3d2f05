package io.sanport.transport.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * poll(2) on one fd with a timeout, for the conductor: it waits on the RDMA CM event channel and still gets to
 * its own task queue (teardowns the reactors hand it) at least every timeout.
 */
final class Poll {
    static final short POLLIN = 1;
    private static final MethodHandle POLL = Native.downcall(Native.LIBC, "poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private Poll() {}

    /** {@code pollfd} must be 8 bytes: struct pollfd { int fd; short events; short revents; }. True when readable. */
    static boolean readable(MemorySegment pollfd, int fd, int timeoutMs) {
        pollfd.set(JAVA_INT, 0, fd);
        pollfd.set(JAVA_SHORT, 4, POLLIN);
        pollfd.set(JAVA_SHORT, 6, (short) 0);
        try {
            int n = (int) POLL.invokeExact(pollfd, 1L, timeoutMs);
            return n > 0 && (pollfd.get(JAVA_SHORT, 6) & POLLIN) != 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
