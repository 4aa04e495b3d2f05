package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.Errno;
import io.sanport.nvme.Status;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads and writes larger than a device takes in one command, split by the reactor into chunks (as for an NVMe
 * passthrough namespace whose MDTS or max_hw_sectors is below the target's 128 KiB buffers): on a real file
 * through a real io_uring, with a device that, like the kernel, refuses a longer command with EINVAL.
 */
class IoSplitTest {
    static final ReactorConfig CONFIG = new ReactorConfig(64, 128 * 1024, 16);
    static final int IO = 128 * 1024;

    @TempDir
    Path dir;

    /** A file with a per-command limit: what is longer gets EINVAL, as nvme_map_user_request answers. */
    static final class Limited extends ForwardingDevice {
        final long max;
        final AtomicInteger prepared = new AtomicInteger();
        volatile long longest;
        volatile long failAt = -1; // the chunk at this offset completes with an NVMe error

        Limited(BlockDevice file, long max) {
            super(file);
            this.max = max;
        }

        @Override public long maxTransfer() { return max; }

        @Override
        public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
            prepared.incrementAndGet();
            longest = Math.max(longest, r.length);
            return inner.prep(sq, r, fileIndex, fixed, scratch, userData);
        }

        @Override
        public int result(IoRequest r, int res) {
            if (r.length > max) {
                return -Errno.EINVAL;
            }
            if (r.offset == failAt) {
                r.nvmeStatus = Status.WRITE_FAULT | 0x4000; // DNR
                return -Errno.EIO;
            }
            return inner.result(r, res);
        }
    }

    private BlockDevice file() throws Exception {
        Path f = dir.resolve("disk.img");
        try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(4 << 20);
        }
        return BlockDevices.open(f.toString());
    }

    @Test
    void aReadOrWriteBeyondTheDevicesLimitRunsAsChunksAndCompletesOnce() throws Exception {
        long max = 12 * 1024; // not a divisor of 128 KiB: the last chunk is short
        long at = (64 + 4) * 1024;
        try (BlockDevice file = file(); Reactor r = new Reactor("split", CONFIG, new Limited(file, max))) {
            Limited dev = (Limited) r.device(0);
            Io.writePattern(r, 0, at, IO, 7);
            long chunks = IoSplit.chunkCount(IO, max);
            assertEquals(11, chunks);
            assertEquals(chunks, dev.prepared.get(), "one command per chunk");
            assertTrue(dev.longest <= max, "no command longer than the device takes: " + dev.longest);
            assertEquals(-1, Io.verifyPattern(r, 0, at, IO, 7), "read back in chunks too");
            assertEquals(2 * chunks, dev.prepared.get());

            // every chunk landed where it belongs: the file read without sanport
            byte[] bytes = Files.readAllBytes(dir.resolve("disk.img"));
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                MemorySegment disk = arena.allocate(bytes.length, 8).copyFrom(MemorySegment.ofArray(bytes));
                assertEquals(-1, DataPattern.firstMismatch(disk.asSlice(at, IO), at, 7));
                assertEquals(-1, DataPattern.firstNonZero(disk.asSlice(at - 4096, 4096)), "the block before is untouched");
            }
        }
    }

    @Test
    void theFirstFailingChunkEndsTheRequestWithItsStatusAndNoFurtherChunkStarts() throws Exception {
        long max = 4096;
        try (BlockDevice file = file(); Reactor r = new Reactor("split", CONFIG, new Limited(file, max))) {
            Limited dev = (Limited) r.device(0);
            dev.failAt = 2 * max;
            IoRequest q = new IoRequest();
            long[] buffer = {0};
            IoRequest done = r.call(x -> {
                buffer[0] = x.buffers().address(x.buffers().acquire());
                return null;
            }).thenCompose(v -> r.submitAsync(q.write(0, 0, IO, buffer[0], true))).get();
            assertFalse(done.succeeded());
            assertEquals(-Errno.EIO, done.result());
            assertEquals(Status.WRITE_FAULT | 0x4000, done.nvmeStatus(), "the failing chunk's status, DNR kept");
            assertTrue(dev.prepared.get() < IO / max, dev.prepared.get() + " chunks started of " + IO / max);

            // the same request, reused: its split starts afresh
            dev.failAt = -1;
            int before = dev.prepared.get();
            IoRequest again = r.submitAsync(q.write(0, 0, IO, buffer[0], false)).get();
            assertTrue(again.succeeded(), again.describe(dev));
            assertEquals(IO, again.result());
            assertEquals(IO / max, dev.prepared.get() - before);
        }
    }

    @Test
    void aDeviceWithoutALimitTakesItWhole() throws Exception {
        try (BlockDevice file = file(); Reactor r = new Reactor("whole", CONFIG, new Limited(file, Long.MAX_VALUE))) {
            Io.writePattern(r, 0, 0, IO, 3);
            assertEquals(1, ((Limited) r.device(0)).prepared.get());
        }
    }
}
