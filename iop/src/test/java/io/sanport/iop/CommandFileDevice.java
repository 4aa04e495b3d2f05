package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.uring.Liburing;
import java.io.IOException;

/**
 * A file that asks the reactor for the NVMe passthrough ring (SQE128 | CQE32) and per-request scratch memory,
 * and splits large write zeroes off to the blocking path as nvme-passthru does, but whose SQEs are the file's
 * ordinary read/write/fsync/fallocate: the reactor's command-ring path, testable on any machine.
 */
final class CommandFileDevice implements BlockDevice {
    private final BlockDevice file;
    volatile int prepared;
    volatile int offloaded;

    CommandFileDevice(BlockDevice file) {
        this.file = file;
    }

    @Override public int ringSetupFlags() { return Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32; }
    @Override public int commandScratchBytes() { return 16; }

    @Override
    public boolean offloads(IoRequest r) {
        boolean big = r.op == IoRequest.WRITE_ZEROES && r.length > (1 << 20); // as NVMe's 64Ki-block limit
        if (big) offloaded++;
        return big;
    }

    @Override
    public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
        assertEquals(128, sq.entrySize());
        assertTrue(scratch != 0 && (scratch & 15) == 0, "scratch 0x" + Long.toHexString(scratch));
        prepared++;
        return file.prep(sq, r, fileIndex, fixed, scratch, userData);
    }

    @Override
    public int result(IoRequest r, int res) {
        return file.result(r, res);
    }

    @Override public String name() { return "command:" + file.name(); }
    @Override public String kind() { return "command-file"; }
    @Override public int fd() { return file.fd(); }
    @Override public long size() { return file.size(); }
    @Override public int logicalBlockSize() { return file.logicalBlockSize(); }
    @Override public int physicalBlockSize() { return file.physicalBlockSize(); }
    @Override public int optimalIoSize() { return file.optimalIoSize(); }
    @Override public boolean directIo() { return file.directIo(); }
    @Override public boolean supportsDiscard() { return file.supportsDiscard(); }
    @Override public boolean supportsWriteZeroes() { return file.supportsWriteZeroes(); }
    @Override public boolean volatileWriteCache() { return file.volatileWriteCache(); }
    @Override public boolean supportsFua() { return file.supportsFua(); }
    @Override public boolean readOnly() { return file.readOnly(); }
    @Override public void discard(long offset, long length) throws IOException { file.discard(offset, length); }
    @Override public void writeZeroes(long offset, long length) throws IOException { file.writeZeroes(offset, length); }
    @Override public void close() throws IOException { file.close(); }
    @Override public String toString() { return "command-file over " + file; }
}
