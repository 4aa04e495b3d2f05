package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.Errno;
import io.sanport.bindings.uring.Liburing;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The block engine's part before any ring: the checks every request passes against its device's geometry and
 * capabilities (nvmet's LBA range and alignment checks), and the ring setup its devices ask for.
 */
class BlockEngineTest {
    @TempDir
    Path dir;

    /** A 1 MiB RAM device seen as O_DIRECT, read-only, or without discard, as the test needs. */
    static final class Shaped extends ForwardingDevice {
        final boolean direct;
        final boolean readOnly;
        final boolean discard;

        Shaped(BlockDevice inner, boolean direct, boolean readOnly, boolean discard) {
            super(inner);
            this.direct = direct;
            this.readOnly = readOnly;
            this.discard = discard;
        }

        @Override public boolean directIo() { return direct; }
        @Override public boolean readOnly() { return readOnly; }
        @Override public boolean supportsDiscard() { return discard; }
    }

    private static IoRequest.Refusal refused(BlockEngine engine, IoRequest r, int errno) {
        assertFalse(engine.check(r), IoRequest.opName(r.op()) + " should be refused");
        assertEquals(-errno, r.result());
        return r.refusal();
    }

    @Test
    void requestsAreCheckedAgainstTheirDevice() throws Exception {
        try (BlockDevice ram = BlockDevices.open("ram:1M")) {
            Shaped direct = new Shaped(ram, true, false, false);
            Shaped readOnly = new Shaped(ram, false, true, true);
            BlockEngine engine = new BlockEngine(new BlockDevice[] {direct, readOnly});
            long mib = 1 << 20;

            assertTrue(engine.check(new IoRequest().read(0, mib - 4096, 4096, 0x10000)));
            assertTrue(engine.check(new IoRequest().flush(1)), "flush passes on a read-only device");
            assertTrue(engine.check(new IoRequest().read(1, 0, 4096, 0x10001)), "a buffered device takes any buffer");
            assertTrue(engine.check(new IoRequest().writeZeroes(0, 0, mib)));

            assertEquals(IoRequest.Refusal.NO_SUCH_DEVICE, refused(engine, new IoRequest().flush(2), Errno.EINVAL));
            assertEquals(IoRequest.Refusal.NO_SUCH_DEVICE, refused(engine, new IoRequest().flush(-1), Errno.EINVAL));
            assertEquals(IoRequest.Refusal.READ_ONLY,
                    refused(engine, new IoRequest().write(1, 0, 4096, 0x10000, false), Errno.EROFS));
            assertEquals(IoRequest.Refusal.READ_ONLY, refused(engine, new IoRequest().discard(1, 0, 4096), Errno.EROFS));
            assertEquals(IoRequest.Refusal.MISALIGNED_OFFSET,
                    refused(engine, new IoRequest().read(0, 100, 512, 0x10000), Errno.EINVAL));
            assertEquals(IoRequest.Refusal.MISALIGNED_OFFSET,
                    refused(engine, new IoRequest().read(0, -512, 512, 0x10000), Errno.EINVAL));
            assertEquals(IoRequest.Refusal.MISALIGNED_LENGTH,
                    refused(engine, new IoRequest().read(0, 0, 0, 0x10000), Errno.EINVAL));
            assertEquals(IoRequest.Refusal.MISALIGNED_LENGTH,
                    refused(engine, new IoRequest().discard(0, 0, 100), Errno.EINVAL));
            assertEquals(IoRequest.Refusal.OUT_OF_RANGE,
                    refused(engine, new IoRequest().read(0, mib, 512, 0x10000), Errno.EINVAL));
            assertEquals(IoRequest.Refusal.OUT_OF_RANGE,
                    refused(engine, new IoRequest().writeZeroes(0, 512, Long.MAX_VALUE - 511), Errno.EINVAL),
                    "an offset + length that overflows is out of range too");
            assertEquals(IoRequest.Refusal.MISALIGNED_BUFFER,
                    refused(engine, new IoRequest().read(0, 0, 4096, 0x10001), Errno.EINVAL));
            assertEquals(IoRequest.Refusal.NOT_SUPPORTED,
                    refused(engine, new IoRequest().discard(0, 0, 4096), Errno.EOPNOTSUPP));

            IoRequest reused = new IoRequest().read(0, 100, 512, 0x10000);
            engine.check(reused);
            assertTrue(engine.check(reused.read(0, 0, 512, 0x10000)));
            assertEquals(IoRequest.Refusal.NONE, reused.refusal(), "setting a request up again clears its refusal");
        }
    }

    @Test
    void theRingIsSetUpForWhatEveryDeviceNeeds() throws Exception {
        int big = Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32;
        try (BlockDevice ram = BlockDevices.open("ram:1M");
             CommandFileDevice cmd = new CommandFileDevice(BlockDevices.open(dir.resolve("c.img").toString(),
                     OpenOptions.DEFAULT.creating(1 << 20)))) {
            assertEquals(0, new BlockEngine(new BlockDevice[] {ram}).ringSetupFlags());
            assertEquals(0, new BlockEngine(new BlockDevice[0]).ringSetupFlags());
            assertEquals(big, new BlockEngine(new BlockDevice[] {ram, cmd}).ringSetupFlags());
        }
    }
}
