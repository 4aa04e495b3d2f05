package io.sanport.iop;

import java.io.IOException;

/** A device that forwards everything to another one; tests override the part they watch or change. */
abstract class ForwardingDevice implements BlockDevice {
    final BlockDevice inner;

    ForwardingDevice(BlockDevice inner) {
        this.inner = inner;
    }

    @Override public String name() { return inner.name(); }
    @Override public String kind() { return inner.kind(); }
    @Override public int fd() { return inner.fd(); }
    @Override public long size() { return inner.size(); }
    @Override public int logicalBlockSize() { return inner.logicalBlockSize(); }
    @Override public int physicalBlockSize() { return inner.physicalBlockSize(); }
    @Override public int optimalIoSize() { return inner.optimalIoSize(); }
    @Override public boolean directIo() { return inner.directIo(); }
    @Override public boolean supportsDiscard() { return inner.supportsDiscard(); }
    @Override public boolean supportsWriteZeroes() { return inner.supportsWriteZeroes(); }
    @Override public boolean volatileWriteCache() { return inner.volatileWriteCache(); }
    @Override public boolean supportsFua() { return inner.supportsFua(); }
    @Override public boolean readOnly() { return inner.readOnly(); }
    @Override public void discard(long offset, long length) throws IOException { inner.discard(offset, length); }
    @Override public void writeZeroes(long offset, long length) throws IOException { inner.writeZeroes(offset, length); }
    @Override public int ringSetupFlags() { return inner.ringSetupFlags(); }
    @Override public int commandScratchBytes() { return inner.commandScratchBytes(); }
    @Override public boolean offloads(IoRequest r) { return inner.offloads(r); }
    @Override public long maxTransfer() { return inner.maxTransfer(); }

    @Override
    public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
        return inner.prep(sq, r, fileIndex, fixed, scratch, userData);
    }

    @Override public int result(IoRequest r, int res) { return inner.result(r, res); }
    @Override public void close() throws IOException { inner.close(); }
    @Override public String toString() { return getClass().getSimpleName() + " over " + inner; }
}
