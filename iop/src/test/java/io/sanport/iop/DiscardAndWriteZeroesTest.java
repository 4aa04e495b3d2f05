package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sanport.bindings.Errno;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data-less commands (DSM deallocate = DISCARD, WRITE ZEROES, FLUSH) and FUA writes, on each backend: a
 * file on ext4 (fallocate through IORING_OP_FALLOCATE), RAM (a memfd: tmpfs hole punching) and a loop device
 * over a tmpfs file (fallocate(ZERO_RANGE) on the block device; BLKDISCARD on the offload thread).
 *
 * <p>Discard reads back as zeroes on all three, which a real SSD does not promise (NVMe DLFEAT may say
 * "unspecified"): a file and a memfd punch a hole, which reads as zeroes; the loop driver turns a discard into
 * fallocate(PUNCH_HOLE) on its backing file, and its backing file is on tmpfs.
 */
class DiscardAndWriteZeroesTest {
    static final ReactorConfig SMALL = new ReactorConfig(64, 128 * 1024, 64);
    static final int CHUNK = 64 * 1024;
    static final long BASE = 1 << 20;
    static final long SEED = 0x5eed_0001L;

    @TempDir
    Path dir;

    @Test
    void fileOnExt4() throws Exception {
        Path image = dir.resolve("dz.img");
        try (BlockDevice dev = BlockDevices.open(image.toString(), OpenOptions.DEFAULT.creating(16 << 20))) {
            assertEquals("file", dev.kind());
            assertTrue(dev.directIo(), "the temp dir should be ext4, which takes O_DIRECT: " + dev);
            exercise(dev);
        }
        readOnlyRefuses(image.toString());
    }

    @Test
    void ram() throws Exception {
        try (BlockDevice dev = BlockDevices.open("ram:16M")) {
            exercise(dev);
        }
    }

    @Test
    void loopDeviceOverTmpfs() throws Exception {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        // a loop device of its own: queue limits another test left on a shared /dev/loopN would change the outcome
        try (LoopDevice loop = LoopDevice.createPrivate(16 << 20)) {
            try (BlockDevice dev = BlockDevices.open(loop.device)) {
                assertEquals("block", dev.kind());
                exercise(dev);
            }
            readOnlyRefuses(loop.device);
        }
    }

    /**
     * A writable device whose queue says it cannot discard (discard_max_bytes 0, which root may set) is refused
     * before the kernel sees the request: NOT_SUPPORTED, -EOPNOTSUPP, in words.
     */
    @Test
    void discardOnADeviceWithoutDiscardIsRefusedAsNotSupported() throws Exception {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        try (LoopDevice loop = LoopDevice.createPrivate(4 << 20)) { // the limit outlives a detach
            Files.writeString(loop.queue().resolve("discard_max_bytes"), "0");
            assertEquals("0", loop.queueAttribute("discard_max_bytes"));
            try (BlockDevice dev = BlockDevices.open(loop.device); Reactor r = new Reactor("dz", SMALL, dev)) {
                assertFalse(dev.readOnly());
                assertFalse(dev.supportsDiscard(), dev.toString());
                IoRequest discard = Io.run(r, new IoRequest().discard(0, 0, 4096));
                assertEquals(IoRequest.Refusal.NOT_SUPPORTED, discard.refusal());
                assertEquals(-Errno.EOPNOTSUPP, discard.result());
                assertFalse(discard.succeeded());
                assertTrue(discard.describe(dev).endsWith("the device does not support it"), discard.describe(dev));
            }
        }
    }

    /** Writes four chunks of pattern, zeroes and discards parts of them, checks every byte, flushes, FUA-writes. */
    static void exercise(BlockDevice dev) throws Exception {
        assertTrue(dev.supportsDiscard() && dev.supportsWriteZeroes(), "expected both on " + dev);
        try (Reactor r = new Reactor("dz", SMALL, dev)) {
            for (int i = 0; i < 4; i++) {
                Io.writePattern(r, 0, BASE + (long) i * CHUNK, CHUNK, SEED);
            }

            // write zeroes on 512-byte (not 4 KiB) boundaries: the partial pages around the range keep their data
            long zStart = BASE + CHUNK + 512;
            long zLength = CHUNK - 1024;
            IoRequest zeroes = Io.run(r, new IoRequest().writeZeroes(0, zStart, zLength));
            assertTrue(zeroes.succeeded(), zeroes.describe(dev));
            assertEquals(0, zeroes.result());
            assertEquals(-1, Io.firstNonZero(r, 0, zStart, (int) zLength), "write zeroes left data on " + dev);
            assertEquals(-1, Io.verifyPattern(r, 0, BASE, CHUNK + 512, SEED), "the range before was touched on " + dev);
            assertEquals(-1, Io.verifyPattern(r, 0, zStart + zLength, 512 + CHUNK, SEED),
                    "the range after was touched on " + dev);

            // discard the third chunk, 4 KiB aligned (the loop's discard granularity)
            long dStart = BASE + 2L * CHUNK;
            IoRequest discard = Io.run(r, new IoRequest().discard(0, dStart, CHUNK));
            assertTrue(discard.succeeded(), discard.describe(dev));
            assertEquals(-1, Io.firstNonZero(r, 0, dStart, CHUNK), "a discarded range reads back zeroes on " + dev);
            assertEquals(-1, Io.verifyPattern(r, 0, BASE, CHUNK + 512, SEED), "discard touched the first chunk");
            assertEquals(-1, Io.verifyPattern(r, 0, zStart + zLength, 512, SEED), "discard touched the second chunk");
            assertEquals(-1, Io.verifyPattern(r, 0, BASE + 3L * CHUNK, CHUNK, SEED), "discard touched the fourth chunk");

            // a discarded range takes writes again
            Io.writePattern(r, 0, dStart, CHUNK, SEED + 1);
            assertEquals(-1, Io.verifyPattern(r, 0, dStart, CHUNK, SEED + 1));

            IoRequest flush = Io.run(r, new IoRequest().flush(0));
            assertTrue(flush.succeeded(), flush.describe(dev));
            assertEquals(0, flush.result());

            assertTrue(dev.supportsFua());
            long fuaOffset = BASE + 4L * CHUNK;
            long fuaSeed = SEED + 2;
            Io.withBuffer(r, CHUNK, seg -> DataPattern.fill(seg, fuaOffset, fuaSeed),
                    a -> new IoRequest().write(0, fuaOffset, CHUNK, a, true), seg -> 0);
            assertEquals(-1, Io.verifyPattern(r, 0, fuaOffset, CHUNK, fuaSeed), "FUA write did not read back on " + dev);
        }
    }

    /**
     * A device opened read-only offers neither command, and the reactor refuses both before the kernel sees
     * them. Read-only is checked first, so the refusal is READ_ONLY / -EROFS (NVMe "Namespace is Write
     * Protected", what nvmet answers any write-class command on a read-only namespace), not NOT_SUPPORTED.
     */
    static void readOnlyRefuses(String name) throws Exception {
        try (BlockDevice dev = BlockDevices.open(name, new OpenOptions(true, true, 0));
             Reactor r = new Reactor("dz-ro", SMALL, dev)) {
            assertTrue(dev.readOnly());
            assertFalse(dev.supportsDiscard(), dev.toString());
            assertFalse(dev.supportsWriteZeroes(), dev.toString());
            for (IoRequest q : new IoRequest[] {
                    Io.run(r, new IoRequest().discard(0, BASE, CHUNK)),
                    Io.run(r, new IoRequest().writeZeroes(0, BASE, CHUNK))}) {
                assertEquals(IoRequest.Refusal.READ_ONLY, q.refusal(), q.describe(dev));
                assertEquals(-Errno.EROFS, q.result());
                assertTrue(q.describe(dev).endsWith("the device is open read-only"), q.describe(dev));
            }
            // nothing reached the device: the pattern written before is intact
            assertEquals(-1, Io.verifyPattern(r, 0, BASE, CHUNK, SEED));
            IoRequest flush = Io.run(r, new IoRequest().flush(0));
            assertTrue(flush.succeeded(), "flush is allowed on a read-only device: " + flush.describe(dev));
        }
    }
}
