package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.Errno;
import io.sanport.bindings.Native;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.uring.Liburing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The event loop's slots and its one park queue: block I/O and other ring operations that find every slot taken
 * wait in one FIFO and start in submission order, whatever their kind; nothing submitted later overtakes them,
 * not even from a completion that just freed a slot; a parked operation is cancelled by dropping it; a multishot
 * completion keeps its slot.
 */
class EventLoopTest {
    static final int POLLIN = 1;

    /** A ring operation that records its start: a poll on {@code fd} (in flight until it is written), else a NOP. */
    static final class Op extends RingOperation {
        final String name;
        final List<Object> started;
        final int fd;
        final CountDownLatch done;
        Runnable onComplete = () -> { };
        long userData = -1;
        int completions;
        int lastRes;
        int lastFlags;

        Op(String name, List<Object> started, int fd, CountDownLatch done) {
            this(name, started, fd, done, false);
        }

        Op(String name, List<Object> started, int fd, CountDownLatch done, boolean connectionSlot) {
            super(connectionSlot);
            this.name = name;
            this.started = started;
            this.fd = fd;
            this.done = done;
        }

        @Override
        protected boolean prep(SubmissionQueue sq, long userData) {
            boolean ok = fd >= 0 ? sq.prepPollAdd(fd, POLLIN, userData) : sq.prepNop(userData);
            if (ok) {
                this.userData = userData;
                started.add(this);
            }
            return ok;
        }

        @Override
        protected void complete(int res, int flags) {
            completions++;
            lastRes = res;
            lastFlags = flags;
            onComplete.run();
            done.countDown();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Records the order in which the device is asked to start requests. */
    static final class TracingDevice extends ForwardingDevice {
        final List<Object> started;

        TracingDevice(BlockDevice inner, List<Object> started) {
            super(inner);
            this.started = started;
        }

        @Override
        public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
            boolean ok = super.prep(sq, r, fileIndex, fixed, scratch, userData);
            if (ok) {
                started.add(r);
            }
            return ok;
        }
    }

    static void signal(int eventFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
            assertEquals(8, Libc.write(eventFd, one, a.allocate(Native.CAPTURE_LAYOUT)));
        }
    }

    @Test
    void oneParkQueueStartsEveryKindInSubmissionOrder() throws Exception {
        List<Object> started = Collections.synchronizedList(new ArrayList<>());
        int eventFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        try (TracingDevice dev = new TracingDevice(BlockDevices.open("ram:1M"), started);
             Reactor r = new Reactor("park", new ReactorConfig(2, 4096, 4), dev)) {
            CountDownLatch blockersDone = new CountDownLatch(r.capacity());
            CountDownLatch parkedDone = new CountDownLatch(6);
            IoCallback count = q -> parkedDone.countDown();
            IoRequest a = new IoRequest(count);
            IoRequest c = new IoRequest(count);
            IoRequest e = new IoRequest(count);
            Op b = new Op("B", started, -1, parkedDone);
            Op d = new Op("D", started, -1, parkedDone);
            Op x = new Op("X", started, -1, parkedDone);
            Op late = new Op("late", started, -1, parkedDone);
            List<Op> blockers = new ArrayList<>();
            CompletableFuture<int[]> parkedState = r.call(rr -> {
                for (int i = 0; i < rr.capacity(); i++) {
                    blockers.add(new Op("blocker" + i, started, eventFd, blockersDone));
                    rr.submit(blockers.get(i));
                }
                // the first completion frees a slot and submits at once: it must still queue behind the others
                blockers.get(0).onComplete = () -> rr.submit(late);
                int inflight = rr.inflight();
                long base = rr.buffers().address(0);
                rr.submit(a.write(0, 0, 4096, base, false));
                rr.submit(b);
                rr.submit(c.read(0, 4096, 4096, base + 4096));
                rr.submit(x);
                rr.submit(d);
                rr.submit(e.flush(0));
                int waiting = rr.waiting();
                boolean completionToCome = rr.cancel(x);
                return new int[] {inflight, waiting, rr.waiting(), completionToCome ? 1 : 0};
            });
            int[] s = parkedState.get(10, TimeUnit.SECONDS);
            assertEquals(r.capacity(), s[0], "the blockers hold every slot");
            assertEquals(6, s[1], "block I/O and operations wait in the same queue");
            assertEquals(5, s[2], "the cancelled operation left it");
            assertEquals(0, s[3], "a parked operation has no completion to come");

            signal(eventFd);
            assertTrue(blockersDone.await(10, TimeUnit.SECONDS));
            assertTrue(parkedDone.await(10, TimeUnit.SECONDS), "parked work left: " + parkedDone.getCount());
            assertTrue(a.succeeded() && c.succeeded() && e.succeeded(), a.describe(dev) + ", " + c.describe(dev));
            List<Object> afterBlockers = started.subList(r.capacity(), started.size());
            assertEquals(List.of(a, b, c, d, e, late), List.copyOf(afterBlockers));
            assertEquals(0, x.completions);
            assertEquals(0, r.call(Reactor::waiting).get(10, TimeUnit.SECONDS));
            assertTrue(r.parked() >= 7, "parked " + r.parked());
        } finally {
            Libc.close(eventFd);
        }
    }

    /**
     * Connection operations (a socket's receive or send) take the slots kept for connections: with every shared
     * slot held they still start at once, and they never take a shared slot while one of theirs is free, so
     * block I/O behind them only waits for shared slots.
     */
    @Test
    void connectionOperationsHaveSlotsOfTheirOwn() throws Exception {
        List<Object> started = Collections.synchronizedList(new ArrayList<>());
        int eventFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        try (Reactor r = new Reactor("conn", new ReactorConfig(2, 4096, 4, 3), BlockDevices.open("ram:1M"))) {
            assertEquals(3, r.connectionRoom());
            assertEquals(3, r.capacity(), "2 x 2 SQ entries - 1 shared slots, as without connections");
            int ops = r.capacity() + 2 * r.connectionRoom();
            CountDownLatch done = new CountDownLatch(ops);
            int[] state = r.call(rr -> {
                for (int i = 0; i < rr.capacity(); i++) {
                    rr.submit(new Op("shared" + i, started, eventFd, done));
                }
                for (int i = 0; i < 2 * rr.connectionRoom(); i++) {
                    rr.submit(new Op("connection" + i, started, eventFd, done, true));
                }
                return new int[] {rr.inflight(), rr.waiting()};
            }).get(10, TimeUnit.SECONDS);
            assertEquals(ops, state[0], "all in flight: the connection operations did not wait for shared slots");
            assertEquals(0, state[1]);
            assertTrue(r.tryAddConnection() && r.tryAddConnection() && r.tryAddConnection());
            assertFalse(r.tryAddConnection(), "room for 3 connections only");
            r.removeConnection();
            assertTrue(r.tryAddConnection());
            signal(eventFd);
            assertTrue(done.await(10, TimeUnit.SECONDS));
        } finally {
            Libc.close(eventFd);
        }
    }

    /** A completion with IORING_CQE_F_MORE (a multishot operation) keeps the slot; the last one frees it. */
    @Test
    void aMultishotOperationKeepsItsSlotUntilItsLastCompletion() throws Exception {
        int eventFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        EventLoop loop = new EventLoop("multishot", new ReactorConfig(4, 4096, 1), 0, (l, ring, arena) -> { });
        try {
            CountDownLatch done = new CountDownLatch(2);
            Op poll = new Op("poll", Collections.synchronizedList(new ArrayList<>()), eventFd, done);
            CompletableFuture<int[]> afterMore = new CompletableFuture<>();
            loop.execute(() -> {
                loop.submit(poll);
                loop.complete(poll.userData, 7, Liburing.IORING_CQE_F_MORE); // as the kernel posts one
                afterMore.complete(new int[] {loop.inflight(), poll.completions, poll.lastRes});
            });
            assertEquals(1, afterMore.get(10, TimeUnit.SECONDS)[0], "the slot is still held");
            assertEquals(1, afterMore.get()[1]);
            assertEquals(7, afterMore.get()[2]);

            signal(eventFd);
            assertTrue(done.await(10, TimeUnit.SECONDS));
            CompletableFuture<Integer> inflight = new CompletableFuture<>();
            loop.execute(() -> inflight.complete(loop.inflight()));
            assertEquals(0, inflight.get(10, TimeUnit.SECONDS));
            assertEquals(POLLIN, poll.lastRes & POLLIN);
            assertFalse((poll.lastFlags & Liburing.IORING_CQE_F_MORE) != 0);
        } finally {
            loop.close(10, TimeUnit.SECONDS);
            Libc.close(eventFd);
        }
    }

    /** Cancelling an operation in flight posts IORING_OP_ASYNC_CANCEL: the poll ends with -ECANCELED. */
    @Test
    void anOperationInFlightIsCancelledThroughTheRing() throws Exception {
        int eventFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        EventLoop loop = new EventLoop("cancel", new ReactorConfig(4, 4096, 1), 0, (l, ring, arena) -> { });
        try {
            CountDownLatch done = new CountDownLatch(1);
            Op poll = new Op("poll", Collections.synchronizedList(new ArrayList<>()), eventFd, done);
            CompletableFuture<Boolean> toCome = new CompletableFuture<>();
            loop.execute(() -> {
                loop.submit(poll);
                toCome.complete(loop.cancel(poll));
            });
            assertTrue(toCome.get(10, TimeUnit.SECONDS));
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals(-Errno.ECANCELED, poll.lastRes);
        } finally {
            loop.close(10, TimeUnit.SECONDS);
            Libc.close(eventFd);
        }
    }
}
