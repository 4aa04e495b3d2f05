package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sanport.bindings.Errno;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReactorTest {
    static final ReactorConfig SMALL = new ReactorConfig(64, 128 * 1024, 64);

    @TempDir
    Path dir;

    /** Patterns of mixed sizes at random aligned offsets, written, read back, compared. */
    static void integrity(BlockDevice dev, ReactorConfig config) throws Exception {
        try (Reactor r = new Reactor("test", config, dev)) {
            SplittableRandom random = new SplittableRandom(42);
            int[] sizes = {512, 1024, 4096, 8192, 65536, 131072, 3 * 4096, 7 * 512};
            List<long[]> written = new ArrayList<>();
            long blocks = dev.size() / 131072;
            for (int i = 0; i < 200; i++) {
                int size = sizes[random.nextInt(sizes.length)];
                if (size % dev.logicalBlockSize() != 0) continue;
                long offset = random.nextLong(blocks) * 131072 + random.nextInt(131072 - size + 1) / dev.logicalBlockSize() * dev.logicalBlockSize();
                long seed = random.nextLong();
                Io.writePattern(r, 0, offset, size, seed);
                written.add(new long[] {offset, size, seed});
            }
            // later writes may overlap earlier ones: verify the last writer of each range only
            for (int i = written.size() - 1; i >= 0; i--) {
                long[] w = written.get(i);
                boolean overwritten = false;
                for (int j = i + 1; j < written.size(); j++) {
                    long[] v = written.get(j);
                    if (v[0] < w[0] + w[1] && w[0] < v[0] + v[1]) overwritten = true;
                }
                if (!overwritten) {
                    assertEquals(-1, Io.verifyPattern(r, 0, w[0], (int) w[1], w[2]),
                            "mismatch in the " + w[1] + " bytes at offset " + w[0] + " of " + dev);
                }
            }
            assertTrue(r.completions() >= 200);
        }
    }

    @Test
    void fileIntegrityWithODirect() throws Exception {
        try (BlockDevice dev = BlockDevices.open(dir.resolve("a.img").toString(), OpenOptions.DEFAULT.creating(64 << 20))) {
            assertTrue(dev.directIo(), "ext4 takes O_DIRECT");
            assertEquals("file", dev.kind());
            integrity(dev, SMALL);
        }
    }

    @Test
    void ramIntegrity() throws Exception {
        try (BlockDevice dev = BlockDevices.open("ram:32M")) {
            assertEquals("ram", dev.kind());
            assertEquals(32 << 20, dev.size());
            integrity(dev, SMALL);
        }
    }

    @Test
    void loopDeviceIntegrity() throws Exception {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        try (LoopDevice loop = LoopDevice.create(64 << 20); BlockDevice dev = BlockDevices.open(loop.device)) {
            assertEquals("block", dev.kind());
            assertEquals(64 << 20, dev.size());
            assertEquals(512, dev.logicalBlockSize());
            integrity(dev, SMALL);
        }
    }

    @Test
    void misalignmentIsRefusedInWords() throws Exception {
        try (BlockDevice dev = BlockDevices.open(dir.resolve("m.img").toString(), OpenOptions.DEFAULT.creating(1 << 20));
             Reactor r = new Reactor("test", SMALL, dev)) {
            long buf = Io.bufferAddress(r);
            IoRequest offset = Io.run(r, new IoRequest().read(0, 513, 4096, buf));
            assertEquals(-Errno.EINVAL, offset.result());
            assertEquals(IoRequest.Refusal.MISALIGNED_OFFSET, offset.refusal());
            assertTrue(offset.describe(dev).contains("not a multiple of the logical block size 512 (O_DIRECT)"),
                    offset.describe(dev));
            IoRequest length = Io.run(r, new IoRequest().read(0, 0, 1000, buf));
            assertEquals(IoRequest.Refusal.MISALIGNED_LENGTH, length.refusal());
            IoRequest buffer = Io.run(r, new IoRequest().read(0, 0, 4096, buf + 1));
            assertEquals(IoRequest.Refusal.MISALIGNED_BUFFER, buffer.refusal());
            assertTrue(buffer.describe(dev).contains("O_DIRECT requires"), buffer.describe(dev));
            IoRequest range = Io.run(r, new IoRequest().read(0, (1 << 20) - 512, 4096, buf));
            assertEquals(IoRequest.Refusal.OUT_OF_RANGE, range.refusal());
            assertTrue(range.describe(dev).contains("beyond the end"), range.describe(dev));
            IoRequest noDev = Io.run(r, new IoRequest().read(3, 0, 4096, buf));
            assertEquals(IoRequest.Refusal.NO_SUCH_DEVICE, noDev.refusal());
        }
    }

    @Test
    void kernelErrorsComeBackAsErrnoInWords() throws Exception {
        // an unaligned buffer that the check lets through on a buffered device reaches the kernel fine;
        // a read into an unmapped address is refused by the kernel with EFAULT
        try (BlockDevice dev = BlockDevices.open("ram:1M"); Reactor r = new Reactor("test", SMALL, dev)) {
            IoRequest bad = Io.run(r, new IoRequest().read(0, 0, 4096, 4096));
            assertEquals(-Errno.EFAULT, bad.result());
            assertTrue(bad.describe(dev).endsWith("EFAULT (Bad address)"), bad.describe(dev));
        }
    }

    /** A ring of 8 entries given 2000 requests at once: all complete, many had to wait, none failed. */
    @Test
    void ringFullRequestsWaitAndAllComplete() throws Exception {
        try (BlockDevice dev = BlockDevices.open("ram:16M");
             Reactor r = new Reactor("test", new ReactorConfig(8, 4096, 16), dev)) {
            int n = 2000;
            CompletableFuture<int[]> done = new CompletableFuture<>();
            int[] counts = new int[2];
            r.execute(() -> {
                long base = r.buffers().address(0);
                for (int i = 0; i < n; i++) {
                    IoRequest req = new IoRequest(q -> {
                        counts[q.succeeded() ? 0 : 1]++;
                        if (counts[0] + counts[1] == n) done.complete(counts);
                    });
                    r.submit(req.write(0, (long) (i % 4096) * 4096, 4096, base, false));
                }
                assertTrue(r.waiting() > 0, "the ring should have filled");
            });
            int[] c = done.get(30, TimeUnit.SECONDS);
            assertEquals(n, c[0], "every request succeeds");
            assertEquals(0, c[1]);
            assertTrue(r.parked() >= n - r.capacity(), "parked " + r.parked());
        }
    }
}
