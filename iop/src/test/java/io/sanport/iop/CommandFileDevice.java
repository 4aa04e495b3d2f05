package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.uring.Liburing;
import java.io.IOException;

/**
 * A file that asks the reactor for the NVMe passthrough ring (SQE128 | CQE32) and is then driven through the
 * {@link NvmeCommandDevice} hooks, but with ordinary read/write/fsync/fallocate entries: the reactor's
 * command path, scratch memory and result translation, testable on any machine.
 */
final class CommandFileDevice implements NvmeCommandDevice {
    private final BlockDevice file;
    volatile int prepared;
    volatile int offloaded;

    CommandFileDevice(BlockDevice file) {
        this.file = file;
    }

    @Override public int ringSetupFlags() { return Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32; }

    @Override
    public boolean needsOffload(IoRequest r) {
        boolean big = r.op == IoRequest.WRITE_ZEROES && r.length > (1 << 20); // as NVMe's 64Ki-block limit
        if (big) offloaded++;
        return big;
    }

    @Override
    public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
        assertEquals(128, sq.entrySize());
        assertTrue(scratch != 0 && (scratch & 15) == 0, "scratch 0x" + Long.toHexString(scratch));
        prepared++;
        return switch (r.op) {
            case IoRequest.READ -> fixed
                    ? sq.prepReadFixed(fileIndex, r.address, (int) r.length, r.offset, 0, userData)
                    : sq.prepRead(fileIndex, r.address, (int) r.length, r.offset, userData);
            case IoRequest.WRITE -> fixed
                    ? sq.prepWriteFixed(fileIndex, r.address, (int) r.length, r.offset, r.fua ? Libc.RWF_DSYNC : 0, 0,
                    userData)
                    : sq.prepWrite(fileIndex, r.address, (int) r.length, r.offset, r.fua ? Libc.RWF_DSYNC : 0, userData);
            case IoRequest.FLUSH -> sq.prepFdatasync(fileIndex, userData);
            default -> sq.prepFallocate(fileIndex, file.fallocateMode(r.op == IoRequest.DISCARD), r.offset, r.length,
                    userData);
        };
    }

    @Override
    public int result(IoRequest r, int res) {
        return res; // ordinary entries complete with bytes or -errno already
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
    @Override public int fallocateMode(boolean discard) { return -1; }
    @Override public void close() throws IOException { file.close(); }
    @Override public String toString() { return "command-file over " + file; }
}
