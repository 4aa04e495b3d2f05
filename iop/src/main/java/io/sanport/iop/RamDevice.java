package io.sanport.iop;

import io.sanport.bindings.libc.Libc;
import java.io.IOException;

/**
 * RAM ("ram:64M"): an anonymous memfd, driven through the same ring as a disk (buffered: tmpfs pages are the
 * medium). For tests and demos that must not touch a disk; contents vanish at close.
 */
final class RamDevice extends FdDevice {
    private RamDevice(String name, int fd, long size) {
        super(name, fd, size, false, false);
    }

    static BlockDevice open(String spec) throws IOException {
        long size;
        try {
            size = BlockDevices.parseSize(spec.substring("ram:".length()));
        } catch (IllegalArgumentException e) {
            throw new IOException(spec + ": " + e.getMessage(), e);
        }
        if (size == 0 || size % FileDevice.SECTOR != 0) {
            throw new IOException(spec + ": a RAM device needs a size that is a non-zero multiple of 512");
        }
        int fd = Libc.memfd_create("sanport-" + spec, Libc.MFD_CLOEXEC);
        try {
            Libc.ftruncate(fd, size, spec);
        } catch (IOException e) {
            closeQuietly(fd, e);
            throw e;
        }
        return new RamDevice(spec, fd, size);
    }

    @Override public String kind() { return "ram"; }
    @Override public int logicalBlockSize() { return FileDevice.SECTOR; }
    @Override public int physicalBlockSize() { return 4096; }
    @Override public int optimalIoSize() { return 0; }
    @Override public boolean supportsDiscard() { return true; }
    @Override public boolean supportsWriteZeroes() { return true; }
    @Override public boolean deallocateReadsZeroes() { return true; }
    @Override public boolean volatileWriteCache() { return false; }
    @Override public boolean supportsFua() { return true; }

    @Override
    int fallocateMode(boolean discard) {
        return Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE; // tmpfs: a hole is zeroes and frees the page
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        Libc.fallocate(fd, fallocateMode(true), offset, length, name);
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        discard(offset, length);
    }

    public static final class Provider implements BlockDeviceProvider {
        @Override public String kind() { return "ram"; }
        @Override public boolean accepts(String name) { return name.startsWith("ram:"); }
        @Override public BlockDevice open(String name, OpenOptions options) throws IOException { return RamDevice.open(name); }
    }
}
