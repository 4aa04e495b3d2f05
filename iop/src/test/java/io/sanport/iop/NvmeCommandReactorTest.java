package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.uring.Liburing;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reactor with a device that needs the NVMe passthrough ring: the same integrity, concurrency and
 * discard / write-zeroes suites the other kinds pass, over a file, on a SQE128 | CQE32 ring.
 */
class NvmeCommandReactorTest {
    static final int BIG = Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32;

    @TempDir
    Path dir;

    private CommandFileDevice open(String file, long size) throws Exception {
        return new CommandFileDevice(BlockDevices.open(dir.resolve(file).toString(), OpenOptions.DEFAULT.creating(size)));
    }

    @Test
    void ringIsSetUpForCommands() throws Exception {
        try (CommandFileDevice dev = open("f.img", 1 << 20); Reactor r = new Reactor("cmd", ReactorTest.SMALL, dev);
             BlockDevice plain = BlockDevices.open("ram:1M"); Reactor p = new Reactor("plain", ReactorTest.SMALL, plain)) {
            assertEquals(BIG, r.ringSetupFlags() & BIG);
            assertEquals(0, p.ringSetupFlags() & BIG);
        }
    }

    @Test
    void integrity() throws Exception {
        try (CommandFileDevice dev = open("i.img", 64 << 20)) {
            ReactorTest.integrity(dev, ReactorTest.SMALL);
            assertTrue(dev.prepared >= 200, "the reactor went through the command hooks: " + dev.prepared);
        }
    }

    @Test
    void concurrency() throws Exception {
        try (CommandFileDevice dev = open("c.img", ReactorConcurrencyTest.REACTORS * ReactorConcurrencyTest.CALLERS
                * ReactorConcurrencyTest.REGION)) {
            ReactorConcurrencyTest.run(dev);
        }
    }

    @Test
    void discardWriteZeroesFlushFua() throws Exception {
        try (CommandFileDevice dev = open("d.img", 64 << 20)) {
            DiscardAndWriteZeroesTest.exercise(dev);
        }
    }

    /** A request the device splits is run by the offload thread through the device's blocking call. */
    @Test
    void largeWriteZeroesIsOffloaded() throws Exception {
        try (CommandFileDevice dev = open("z.img", 16 << 20); Reactor r = new Reactor("z", ReactorTest.SMALL, dev)) {
            Io.writePattern(r, 0, 4 << 20, 65536, 5);
            IoRequest z = Io.run(r, new IoRequest().writeZeroes(0, 0, 8 << 20));
            assertTrue(z.succeeded(), z.describe(dev));
            assertEquals(1, dev.offloaded);
            assertEquals(-1, Io.firstNonZero(r, 0, 4 << 20, 65536));
        }
    }
}
