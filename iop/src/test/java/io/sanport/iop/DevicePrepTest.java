package io.sanport.iop;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.nvme.NvmeIoctl;
import io.sanport.bindings.nvme.NvmeUringCmd;
import io.sanport.bindings.uring.IoUringSqe;
import io.sanport.bindings.uring.Liburing;
import io.sanport.nvme.DsmRange;
import io.sanport.nvme.IoOpcode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each device kind writes its own SQEs, so the block engine never asks which kind it drives: the entries the
 * block, file, RAM and nvme-passthru kinds write for every operation, field by field (liburing's
 * io_uring_prep_* layout), and which operations each sends to the blocking path instead.
 */
class DevicePrepTest {
    static final int FILE_INDEX = 3;
    static final long USER_DATA = 0x1234_5678_9aL;
    static final long ADDRESS = 0x7f00_0000_0000L;
    static final int BIG = Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32;

    @TempDir
    Path dir;

    /** A throw-away ring whose entries are written but never submitted. */
    static final class Sqes implements AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final Ring ring;
        int written;

        Sqes(int setupFlags) throws Exception {
            ring = Ring.open(arena, 16, setupFlags);
        }

        /** Runs {@code r}'s prep on {@code dev} and returns the byte offset of the entry it wrote. */
        long prep(BlockDevice dev, IoRequest r, boolean fixed, long scratch) {
            assertFalse(dev.offloads(r), IoRequest.opName(r.op) + " needs no blocking call on " + dev.kind());
            assertTrue(dev.prep(ring.sq(), r, FILE_INDEX, fixed, scratch, USER_DATA));
            long at = (long) (written++ % ring.sq().entries()) * ring.sq().entrySize();
            MemorySegment s = ring.sq().sqes();
            assertEquals(USER_DATA, IoUringSqe.user_data(s, at));
            assertEquals(Liburing.IOSQE_FIXED_FILE, s.get(JAVA_BYTE, at + IoUringSqe.FLAGS), "a registered file");
            assertEquals(FILE_INDEX, s.get(JAVA_INT, at + IoUringSqe.FD), "addressed by its index");
            return at;
        }

        MemorySegment s() { return ring.sq().sqes(); }
        int opcode(long at) { return IoUringSqe.opcode(s(), at); }
        long off(long at) { return s().get(JAVA_LONG, at + IoUringSqe.OFF); }
        long addr(long at) { return s().get(JAVA_LONG, at + IoUringSqe.ADDR); }
        int len(long at) { return s().get(JAVA_INT, at + IoUringSqe.LEN); }
        int rwFlags(long at) { return s().get(JAVA_INT, at + IoUringSqe.RW_FLAGS); }
        short bufIndex(long at) { return s().get(JAVA_SHORT, at + IoUringSqe.BUF_INDEX); }

        @Override
        public void close() {
            ring.close();
            arena.close();
        }
    }

    /** Read, write and flush as every fd-driven kind writes them: fixed when the data lies in buffer 0. */
    static void readWriteFlush(BlockDevice dev) throws Exception {
        assertEquals(0, dev.ringSetupFlags());
        assertEquals(0, dev.commandScratchBytes());
        try (Sqes q = new Sqes(0)) {
            long at = q.prep(dev, new IoRequest().read(0, 8192, 4096, ADDRESS), true, 0);
            assertEquals(Liburing.IORING_OP_READ_FIXED, q.opcode(at));
            assertEquals(8192, q.off(at));
            assertEquals(ADDRESS, q.addr(at));
            assertEquals(4096, q.len(at));
            assertEquals(0, q.bufIndex(at));

            at = q.prep(dev, new IoRequest().read(0, 8192, 4096, ADDRESS), false, 0);
            assertEquals(Liburing.IORING_OP_READ, q.opcode(at));

            at = q.prep(dev, new IoRequest().write(0, 4096, 512, ADDRESS, true), true, 0);
            assertEquals(Liburing.IORING_OP_WRITE_FIXED, q.opcode(at));
            assertEquals(Libc.RWF_DSYNC, q.rwFlags(at), "FUA is RWF_DSYNC");
            assertEquals(512, q.len(at));

            at = q.prep(dev, new IoRequest().write(0, 4096, 512, ADDRESS, false), false, 0);
            assertEquals(Liburing.IORING_OP_WRITE, q.opcode(at));
            assertEquals(0, q.rwFlags(at));

            at = q.prep(dev, new IoRequest().flush(0), false, 0);
            assertEquals(Liburing.IORING_OP_FSYNC, q.opcode(at));
            assertEquals(Liburing.IORING_FSYNC_DATASYNC, q.rwFlags(at));

            assertEquals(-5, dev.result(new IoRequest().read(0, 0, 4096, ADDRESS), -5), "res is the result");
            assertEquals(4096, dev.result(new IoRequest().read(0, 0, 4096, ADDRESS), 4096));
        }
    }

    /** IORING_OP_FALLOCATE as liburing lays it out: the length in addr, the mode in len. */
    static void fallocate(Sqes q, BlockDevice dev, IoRequest r, int mode) {
        long at = q.prep(dev, r, false, 0);
        assertEquals(Liburing.IORING_OP_FALLOCATE, q.opcode(at));
        assertEquals(r.offset, q.off(at));
        assertEquals(r.length, q.addr(at));
        assertEquals(mode, q.len(at));
    }

    @Test
    void ram() throws Exception {
        try (BlockDevice dev = BlockDevices.open("ram:1M"); Sqes q = new Sqes(0)) {
            readWriteFlush(dev);
            int hole = Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE;
            fallocate(q, dev, new IoRequest().discard(0, 4096, 8192), hole);
            fallocate(q, dev, new IoRequest().writeZeroes(0, 4096, 8192), hole); // a tmpfs hole reads as zeroes
        }
    }

    @Test
    void file() throws Exception {
        try (BlockDevice dev = BlockDevices.open(dir.resolve("p.img").toString(), OpenOptions.DEFAULT.creating(1 << 20));
             Sqes q = new Sqes(0)) {
            readWriteFlush(dev);
            assumeTrue(dev.supportsDiscard(), "the temp directory's filesystem punches holes");
            fallocate(q, dev, new IoRequest().discard(0, 4096, 8192), Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE);
            long at = q.prep(dev, new IoRequest().writeZeroes(0, 0, 4096), false, 0);
            assertEquals(Liburing.IORING_OP_FALLOCATE, q.opcode(at));
            int mode = q.len(at);
            assertTrue(mode == (Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE)
                    || mode == (Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE), "mode 0x" + Integer.toHexString(mode));
        }
    }

    /** BLKDISCARD has no ring form: discard is the blocking path; write zeroes is fallocate(ZERO_RANGE). */
    @Test
    void block() throws Exception {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        try (LoopDevice loop = LoopDevice.create(16 << 20); BlockDevice dev = BlockDevices.open(loop.device);
             Sqes q = new Sqes(0)) {
            readWriteFlush(dev);
            assertTrue(dev.offloads(new IoRequest().discard(0, 0, 4096)));
            fallocate(q, dev, new IoRequest().writeZeroes(0, 4096, 8192),
                    Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE);
        }
    }

    static NvmePassthruDevice passthru(boolean fixedBuffers) {
        // fd -1: the entries address the registered file by index; this device is never closed
        return new NvmePassthruDevice("/dev/ng9n1", -1, 1L << 30, false, 7, 12, 4096, 0, 1 << 20, true, true, true,
                fixedBuffers, fixedBuffers ? null : "test");
    }

    /** One IORING_OP_URING_CMD per operation in a 128-byte SQE, the NVMe command in its tail. */
    @Test
    void nvmePassthru() throws Exception {
        NvmePassthruDevice dev = passthru(true);
        assertEquals(BIG, dev.ringSetupFlags());
        assertEquals(DsmRange.SIZE, dev.commandScratchBytes());
        try (Sqes q = new Sqes(BIG)) {
            MemorySegment scratch = q.arena.allocate(DsmRange.SIZE, 16);
            long at = q.prep(dev, new IoRequest().read(0, 8L << 12, 16384, ADDRESS), true, scratch.address());
            assertEquals(Liburing.IORING_OP_URING_CMD, q.opcode(at));
            assertEquals(NvmeIoctl.NVME_URING_CMD_IO, q.off(at), "cmd_op, __pad1 zero");
            assertEquals(NvmeIoctl.IORING_URING_CMD_FIXED, q.rwFlags(at), "uring_cmd_flags: data in buffer 0");
            long cmd = at + IoUringSqe.CMD;
            assertEquals(IoOpcode.READ, NvmeUringCmd.opcode(q.s(), cmd));
            assertEquals(7, NvmeUringCmd.nsid(q.s(), cmd));
            assertEquals(ADDRESS, NvmeUringCmd.addr(q.s(), cmd));
            assertEquals(8, NvmeUringCmd.cdw10(q.s(), cmd), "SLBA in 4 KiB blocks");
            assertEquals(3, NvmeUringCmd.cdw12(q.s(), cmd), "four blocks, zero-based");

            at = q.prep(dev, new IoRequest().write(0, 0, 4096, ADDRESS, true), false, scratch.address());
            assertEquals(0, q.rwFlags(at), "plain user memory");
            assertEquals(IoOpcode.WRITE, NvmeUringCmd.opcode(q.s(), at + IoUringSqe.CMD));
            assertEquals(NvmePassthruDevice.CDW12_FUA, NvmeUringCmd.cdw12(q.s(), at + IoUringSqe.CMD));

            at = q.prep(dev, new IoRequest().flush(0), false, scratch.address());
            assertEquals(IoOpcode.FLUSH, NvmeUringCmd.opcode(q.s(), at + IoUringSqe.CMD));

            at = q.prep(dev, new IoRequest().writeZeroes(0, 4096, 8192), false, scratch.address());
            assertEquals(IoOpcode.WRITE_ZEROES, NvmeUringCmd.opcode(q.s(), at + IoUringSqe.CMD));

            at = q.prep(dev, new IoRequest().discard(0, 4096, 8192), false, scratch.address());
            assertEquals(IoOpcode.DSM, NvmeUringCmd.opcode(q.s(), at + IoUringSqe.CMD));
            assertEquals(scratch.address(), NvmeUringCmd.addr(q.s(), at + IoUringSqe.CMD), "the range in scratch");
            assertEquals(2, DsmRange.nlb(scratch));
            assertEquals(1, DsmRange.slba(scratch));
        }
        try (Sqes q = new Sqes(BIG)) {
            long at = q.prep(passthru(false), new IoRequest().read(0, 0, 4096, ADDRESS), true, 0);
            assertEquals(0, q.rwFlags(at), "a kernel that refuses fixed buffers gets plain addresses");
        }
        assertTrue(dev.offloads(new IoRequest().writeZeroes(0, 0, (NvmePassthruDevice.MAX_BLOCKS_PER_COMMAND + 1) << 12)));
        assertEquals(4096, dev.result(new IoRequest().read(0, 0, 4096, ADDRESS), 0), "NVMe success is the length");
    }
}
