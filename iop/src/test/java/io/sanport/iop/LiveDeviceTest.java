package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Devices added to and removed from running reactors through the sparse fixed-file table: a device added later
 * takes I/O on every reactor; removing one with hundreds of writes queued lets every one of them complete before
 * the call returns and the file is closed; the slot is then reused; the other device never notices.
 */
class LiveDeviceTest {
    static final int BLOCK = 4096;
    static final int WRITES = 400;
    /** A small ring: most of the writes wait for a slot when the removal comes. */
    static final ReactorConfig CONFIG = new ReactorConfig(16, BLOCK, WRITES + 8);

    @TempDir
    Path dir;

    @Test
    void addUseRemoveWithIoInFlightReuse() throws Exception {
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        Path c = dir.resolve("c.img");
        try (IoProcessor iop = IoProcessor.start(2, CONFIG,
                List.of(BlockDevices.open(a.toString(), OpenOptions.DEFAULT.creating(4 << 20))), 4)) {
            BlockDevice devB = BlockDevices.open(b.toString(), OpenOptions.DEFAULT.creating(4 << 20));
            assertEquals(1, iop.addDevice(devB));
            assertSame(devB, iop.devices().get(1));
            assertThrows(IllegalArgumentException.class, () -> iop.addDevice(devB));
            for (Reactor r : iop.reactors()) {
                Io.writePattern(r, 1, 8192, BLOCK, 7);
                assertEquals(-1, Io.verifyPattern(r, 1, 8192, BLOCK, 7));
                Io.writePattern(r, 0, 0, BLOCK, 3);
            }
            assertTrue(openFds().contains(b), "the device's file is open while it is in the table");

            // WRITES writes queued in one reactor task; the removal's task comes after it on that reactor
            Reactor r0 = iop.reactor(0);
            AtomicIntegerArray calls = new AtomicIntegerArray(WRITES);
            int[] failed = new int[1];
            CompletableFuture<Void> queued = new CompletableFuture<>();
            r0.execute(() -> {
                BufferPool pool = r0.buffers();
                for (int i = 0; i < WRITES; i++) {
                    int buffer = pool.acquire();
                    int n = i;
                    DataPattern.fill(pool.buffer(buffer), (long) i * BLOCK, 11);
                    r0.submit(new IoRequest(q -> {
                        calls.incrementAndGet(n);
                        if (!q.succeeded()) failed[0]++;
                        pool.release(buffer);
                    }).write(1, (long) i * BLOCK, BLOCK, pool.address(buffer), false));
                }
                queued.complete(null);
            });
            queued.get(30, TimeUnit.SECONDS);
            iop.removeDevice(1);
            for (int i = 0; i < WRITES; i++) {
                assertEquals(1, calls.get(i), "write " + i + " completed exactly once before the removal returned");
            }
            assertEquals(0, r0.call(r -> failed[0]).get(), "writes already queued finish on the device");
            assertFalse(openFds().contains(b), "the removed device's file is closed");
            assertNull(r0.device(1));
            IoRequest late = Io.run(r0, new IoRequest().flush(1));
            assertEquals(IoRequest.Refusal.NO_SUCH_DEVICE, late.refusal());
            assertThrows(IllegalArgumentException.class, () -> iop.removeDevice(1));

            // the writes are on the medium
            try (BlockDevice again = BlockDevices.open(b.toString());
                 Reactor check = new Reactor("check", CONFIG, again)) {
                assertEquals(-1, Io.verifyPattern(check, 0, 0, BLOCK, 11));
                assertEquals(-1, Io.verifyPattern(check, 0, (long) (WRITES - 1) * BLOCK, BLOCK, 11));
            }

            // the slot is reused, and device 0 was never disturbed
            BlockDevice devC = BlockDevices.open(c.toString(), OpenOptions.DEFAULT.creating(1 << 20));
            assertEquals(1, iop.addDevice(devC));
            for (Reactor r : iop.reactors()) {
                Io.writePattern(r, 1, 0, BLOCK, 5);
                assertEquals(-1, Io.verifyPattern(r, 1, 0, BLOCK, 5));
                assertEquals(-1, Io.verifyPattern(r, 0, 0, BLOCK, 3));
            }
        }
        assertFalse(openFds().contains(c), "closing the processor closes the added device too");
    }

    @Test
    void fullTableRefusesWithoutTakingTheDevice() throws Exception {
        try (IoProcessor iop = IoProcessor.start(1, CONFIG, List.of(BlockDevices.open("ram:1M")), 1);
             BlockDevice extra = BlockDevices.open("ram:1M")) {
            IOException e = assertThrows(IOException.class, () -> iop.addDevice(extra));
            assertTrue(e.getMessage().contains("no free fixed-file slot"), e.getMessage());
            assertEquals(1, iop.devices().size());
        }
    }

    /** A device that counts the flushes prepared for it, and can make them fail with EIO. */
    static final class Flushes extends ForwardingDevice {
        final java.util.concurrent.atomic.AtomicInteger flushes = new java.util.concurrent.atomic.AtomicInteger();
        final boolean fail;
        volatile boolean closed;

        Flushes(BlockDevice inner, boolean fail) {
            super(inner);
            this.fail = fail;
        }

        @Override
        public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
            if (r.op() == IoRequest.FLUSH) flushes.incrementAndGet();
            return super.prep(sq, r, fileIndex, fixed, scratch, userData);
        }

        @Override
        public int result(IoRequest r, int res) {
            return fail && r.op() == IoRequest.FLUSH ? -io.sanport.bindings.Errno.EIO : super.result(r, res);
        }

        @Override
        public void close() throws IOException {
            closed = true;
            super.close();
        }
    }

    @Test
    void removalFlushesOnEveryRingAndReportsAFailedFlush() throws Exception {
        try (IoProcessor iop = IoProcessor.start(2, CONFIG, List.of(), 4)) {
            Flushes good = new Flushes(BlockDevices.open(dir.resolve("g.img").toString(),
                    OpenOptions.DEFAULT.creating(1 << 20)), false);
            int slot = iop.addDevice(good);
            Io.writePattern(iop.reactor(0), slot, 0, BLOCK, 1);
            iop.removeDevice(slot);
            assertEquals(2, good.flushes.get(), "one flush per ring before the device goes");
            assertTrue(good.closed);

            Flushes bad = new Flushes(BlockDevices.open(dir.resolve("b.img").toString(),
                    OpenOptions.DEFAULT.creating(1 << 20)), true);
            slot = iop.addDevice(bad);
            int s = slot;
            IOException e = assertThrows(IOException.class, () -> iop.removeDevice(s));
            assertTrue(e.getMessage().contains("flush") && e.getMessage().contains("EIO"), e.getMessage());
            assertTrue(bad.closed, "closed all the same: no ring holds it any more");
            assertEquals(slot, iop.addDevice(BlockDevices.open("ram:1M")), "and its slot is free");
        }
    }

    static List<Path> openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(p -> {
                try {
                    return Files.readSymbolicLink(p);
                } catch (IOException e) {
                    return p;
                }
            }).toList();
        }
    }
}
