package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.uring.Liburing;

/**
 * A file that asks the reactor for the NVMe passthrough ring (SQE128 | CQE32) and per-request scratch memory,
 * and splits large write zeroes off to the blocking path as nvme-passthru does, but whose SQEs are the file's
 * ordinary read/write/fsync/fallocate: the reactor's command-ring path, testable on any machine.
 */
final class CommandFileDevice extends ForwardingDevice {
    volatile int prepared;
    volatile int offloaded;

    CommandFileDevice(BlockDevice file) {
        super(file);
    }

    @Override public String name() { return "command:" + inner.name(); }
    @Override public String kind() { return "command-file"; }
    @Override public int ringSetupFlags() { return Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32; }
    @Override public int commandScratchBytes() { return 16; }

    @Override
    public boolean offloads(IoRequest r) {
        boolean big = r.op == IoRequest.WRITE_ZEROES && r.length > (1 << 20); // as NVMe's 64Ki-block limit
        if (big) offloaded++;
        return big || inner.offloads(r);
    }

    @Override
    public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
        assertEquals(128, sq.entrySize());
        assertTrue(scratch != 0 && (scratch & 15) == 0, "scratch 0x" + Long.toHexString(scratch));
        prepared++;
        return inner.prep(sq, r, fileIndex, fixed, scratch, userData);
    }
}
