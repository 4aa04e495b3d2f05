package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sanport.bindings.Errno;
import io.sanport.bindings.Native;
import io.sanport.bindings.libc.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The batched sleep on a real ring (Linux 6.12's min_wait through IORING_ENTER_EXT_ARG): it waits for the
 * requested count of completions; once min_wait has passed it returns with at least one; and with none it keeps
 * waiting past min_wait for the first. Reads on eventfds stand for the I/Os, so the test decides when each
 * completes.
 */
class MinWaitTest {
    static final int N = 4;
    Arena arena;
    Ring ring;
    int[] fds = new int[N];
    MemorySegment buffers;

    @BeforeEach
    void open() throws Exception {
        arena = Arena.ofConfined();
        ring = Ring.open(arena, 16);
        assumeTrue(ring.hasMinWait(), "kernel lacks IORING_FEAT_MIN_TIMEOUT (Linux < 6.12)");
        buffers = arena.allocate(8L * N, 8);
        for (int i = 0; i < N; i++) {
            fds[i] = Libc.eventfd(0, Libc.EFD_CLOEXEC);
            assertTrue(ring.sq().prepReadFd(fds[i], buffers.address() + 8L * i, 8, i));
        }
    }

    @AfterEach
    void close() throws Exception {
        if (ring != null) {
            if (ring.hasMinWait()) {
                for (int fd : fds) signal(fd); // completes whatever read is left, so the ring drains
                while (ring.cq().ready() < N - reaped) {
                    ring.submitAndWait(1);
                }
            }
            ring.close();
        }
        for (int fd : fds) if (fd > 0) Libc.close(fd);
        arena.close();
    }

    int reaped;

    static void signal(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
            Libc.write(fd, one, a.allocate(Native.CAPTURE_LAYOUT));
        }
    }

    /** Signals fds[from, to) after {@code delayMs} on another thread. */
    static Thread later(long delayMs, int[] fds, int from, int to) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                return;
            }
            for (int i = from; i < to; i++) signal(fds[i]);
        });
        t.start();
        return t;
    }

    int drain() {
        int n = ring.cq().reap((userData, res, flags) -> assertEquals(8, res, "eventfd read of " + userData));
        reaped += n;
        return n;
    }

    @Test
    void returnsOnceTheRequestedCountCompletes() throws Exception {
        MemorySegment arg = Ring.minWaitArg(arena, 2_000_000, TimeUnit.SECONDS.toNanos(10)); // min_wait 2 s
        ring.submit();
        Thread t = later(50, fds, 0, N);
        long t0 = System.nanoTime();
        int rc = ring.submitAndWaitMin(N, arg);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        t.join();
        assertTrue(rc >= 0, "io_uring_enter: " + rc);
        while (ring.cq().ready() < N && ms < 1_000) { // eventfd wakes may land a moment apart
            rc = ring.submitAndWaitMin(N - ring.cq().ready(), arg);
            ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        }
        assertEquals(N, drain(), "all " + N + " completions");
        assertTrue(ms < 1_000, "returned on the count, not after the 2 s min_wait: " + ms + " ms");
    }

    @Test
    void returnsAfterMinWaitWithFewerThanRequested() throws Exception {
        MemorySegment arg = Ring.minWaitArg(arena, 200_000, TimeUnit.SECONDS.toNanos(10)); // min_wait 200 ms
        ring.submit();
        signal(fds[0]);
        long t0 = System.nanoTime();
        int rc = ring.submitAndWaitMin(N, arg);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(rc >= 0 || rc == -Errno.ETIME, "io_uring_enter: " + rc);
        assertEquals(1, drain(), "the one completion");
        assertTrue(ms >= 150, "waited for more until min_wait passed (a plain wait_nr=1 returns at once): " + ms + " ms");
        assertTrue(ms < 5_000, "returned at min_wait, not at the 10 s timeout: " + ms + " ms");
    }

    @Test
    void keepsWaitingPastMinWaitForTheFirstCompletion() throws Exception {
        MemorySegment arg = Ring.minWaitArg(arena, 20_000, TimeUnit.SECONDS.toNanos(10)); // min_wait 20 ms
        ring.submit();
        Thread t = later(300, fds, 0, 1);
        long t0 = System.nanoTime();
        int rc = ring.submitAndWaitMin(N, arg);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        t.join();
        assertTrue(rc >= 0 || rc == -Errno.ETIME, "io_uring_enter: " + rc);
        assertEquals(1, drain(), "woke for the first completion");
        assertTrue(ms >= 250, "did not give up at min_wait with nothing ready: " + ms + " ms");
        assertTrue(ms < 5_000, "woke on the completion, not the 10 s timeout: " + ms + " ms");
    }
}
