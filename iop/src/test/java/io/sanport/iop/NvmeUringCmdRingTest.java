package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.Errno;
import io.sanport.bindings.nvme.NvmeIoctl;
import io.sanport.bindings.uring.IoUringCqe;
import io.sanport.bindings.uring.IoUringSqe;
import io.sanport.bindings.uring.Liburing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The 128-byte SQE / 32-byte CQE ring that NVMe passthrough needs, proven here with ordinary file I/O: a
 * wrong stride would hand the kernel half entries and read user_data from the middle of a big CQE, so many
 * wrap-arounds of a small ring with every completion matched to its request show the stride is right in
 * both queues. The IORING_OP_URING_CMD entry itself reaches the file's (missing) uring_cmd handler.
 */
class NvmeUringCmdRingTest {
    static final int BIG = Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32;

    @TempDir
    Path dir;

    @Test
    void entrySizesFollowTheSetupFlags() throws Exception {
        try (Arena arena = Arena.ofConfined(); Ring plain = Ring.open(arena, 8); Ring big = Ring.open(arena, 8, BIG)) {
            assertEquals(IoUringSqe.SIZE, plain.sq().entrySize());
            assertEquals(IoUringCqe.SIZE, plain.cq().entrySize());
            assertEquals(128, big.sq().entrySize());
            assertEquals(32, big.cq().entrySize());
            assertEquals(BIG, big.setupFlags() & BIG, "the required flags survive: " + big.setupFlags());
        }
    }

    @Test
    void fileIoWrapsTheSqe128RingManyTimes() throws Exception {
        try (BlockDevice dev = BlockDevices.open(dir.resolve("w.img").toString(), OpenOptions.DEFAULT.creating(1 << 20));
             Arena arena = Arena.ofConfined(); Ring ring = Ring.open(arena, 4, BIG)) {
            int block = 4096;
            int slots = 6; // more than the 4 SQ entries: every batch wraps the SQ
            MemorySegment buffers = arena.allocate((long) 2 * slots * block, 4096);
            ring.registerBuffer(buffers, arena);
            ring.registerFiles(new int[] {dev.fd()}, arena);
            Map<Long, Integer> expected = new HashMap<>();
            int completed = 0;
            for (int round = 0; round < 50; round++) {
                // writes of a per-round pattern from the first half, then reads into the second half
                for (int phase = 0; phase < 2; phase++) {
                    for (int i = 0; i < slots; i++) {
                        long offset = (long) ((round * slots + i) % 256) * block;
                        MemorySegment w = buffers.asSlice((long) i * block, block);
                        long userData = ((long) round << 32) | (phase << 16) | i;
                        if (phase == 0) {
                            DataPattern.fill(w, offset, round);
                        }
                        long address = buffers.address() + (long) (phase * slots + i) * block;
                        SubmissionQueue sq = ring.sq();
                        boolean queued = phase == 0
                                ? sq.prepWriteFixed(0, address, block, offset, 0, 0, userData)
                                : sq.prepReadFixed(0, address, block, offset, 0, userData);
                        if (!queued) {
                            ring.submitAndWait(1);
                            completed += reap(ring, expected);
                            queued = phase == 0
                                    ? sq.prepWriteFixed(0, address, block, offset, 0, 0, userData)
                                    : sq.prepReadFixed(0, address, block, offset, 0, userData);
                        }
                        assertTrue(queued);
                        expected.put(userData, block);
                    }
                    while (!expected.isEmpty()) {
                        ring.submitAndWait(1);
                        completed += reap(ring, expected);
                    }
                }
                for (int i = 0; i < slots; i++) {
                    long offset = (long) ((round * slots + i) % 256) * block;
                    assertEquals(-1, DataPattern.firstMismatch(buffers.asSlice((long) (slots + i) * block, block),
                            offset, round), "round " + round + " slot " + i);
                }
            }
            assertEquals(50 * 2 * slots, completed);
        }
    }

    private static int reap(Ring ring, Map<Long, Integer> expected) {
        int[] n = new int[1];
        ring.cq().reap((userData, res, flags) -> {
            Integer want = expected.remove(userData);
            assertTrue(want != null, "a completion for user_data 0x" + Long.toHexString(userData)
                    + " that was never submitted: the CQE stride is wrong");
            assertEquals((int) want, res, "user_data 0x" + Long.toHexString(userData));
            n[0]++;
        });
        return n[0];
    }

    /**
     * A well-formed IORING_OP_URING_CMD (cmd_op in the low half of off, __pad1 zero, fixed-buffer flag with a
     * registered buffer) passes io_uring's prep and fails only at the file, which has no uring_cmd: EOPNOTSUPP.
     * A malformed one (a flag the kernel does not know) fails the prep with EINVAL.
     */
    @Test
    void uringCmdReachesTheFile() throws Exception {
        try (BlockDevice dev = BlockDevices.open(dir.resolve("c.img").toString(), OpenOptions.DEFAULT.creating(1 << 20));
             Arena arena = Arena.ofConfined(); Ring ring = Ring.open(arena, 4, BIG)) {
            ring.registerBuffer(arena.allocate(4096, 4096), arena);
            ring.registerFiles(new int[] {dev.fd()}, arena);
            long at = ring.sq().prepUringCmd(0, (int) NvmeIoctl.NVME_URING_CMD_IO, NvmeIoctl.IORING_URING_CMD_FIXED,
                    0, 7);
            assertTrue(at >= 0);
            NvmePassthruDevice.encodeFlush(ring.sq().sqes(), at + IoUringSqe.CMD, 1);
            assertEquals(-Errno.EOPNOTSUPP, runOne(ring, 7));
            ring.sq().prepUringCmd(0, (int) NvmeIoctl.NVME_URING_CMD_IO, 1 << 7, 0, 8);
            assertEquals(-Errno.EINVAL, runOne(ring, 8));
        }
    }

    private static int runOne(Ring ring, long userData) {
        ring.submitAndWait(1);
        int[] res = {Integer.MIN_VALUE};
        ring.cq().reap((u, r, f) -> {
            assertEquals(userData, u);
            res[0] = r;
        });
        return res[0];
    }
}
