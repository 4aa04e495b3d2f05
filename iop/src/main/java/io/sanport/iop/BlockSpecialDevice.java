package io.sanport.iop;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.Stat;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Linux block device (/dev/nvme0n1, /dev/loop0), like nvmet's io-cmd-bdev.c. Opened O_DIRECT (unless asked
 * for the page cache: nvmet's buffered_io) and O_EXCL, so a mounted or otherwise claimed device is refused
 * instead of corrupted. Geometry from the block ioctls,
 * capabilities from sysfs. Discard is BLKDISCARD (blocking: the reactor offloads it); write-zeroes is
 * fallocate(ZERO_RANGE), which the block layer turns into REQ_OP_WRITE_ZEROES without blocking the reactor.
 */
final class BlockSpecialDevice extends FdDevice {
    private final int logical;
    private final int physical;
    private final int optimal;
    private final boolean discard;
    private final boolean writeZeroes;
    private final boolean writeCache;
    private final boolean fua;

    private BlockSpecialDevice(String name, int fd, long size, boolean direct, boolean readOnly, int logical,
                               int physical, int optimal, boolean discard, boolean writeZeroes, boolean writeCache,
                               boolean fua) {
        super(name, fd, size, direct, readOnly);
        this.logical = logical;
        this.physical = physical;
        this.optimal = optimal;
        this.discard = discard;
        this.writeZeroes = writeZeroes;
        this.writeCache = writeCache;
        this.fua = fua;
    }

    static BlockDevice open(String name, OpenOptions options) throws IOException {
        int access = (options.readOnly() ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC
                | (options.direct() ? Libc.O_DIRECT : 0) | (options.shared() ? 0 : Libc.O_EXCL);
        int fd;
        try {
            fd = Libc.open(name, access, 0);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EBUSY) {
                throw new IOException(name + " is in use (mounted, part of a RAID/LVM, or exported by another "
                        + "program): sanport opens block devices exclusively unless told the device is shared", e);
            }
            throw e;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Stat.LAYOUT);
            Libc.fstat(fd, st, name);
            if ((Stat.st_mode(st) & Libc.S_IFMT) != Libc.S_IFBLK) {
                throw new IOException(name + " is not a block device");
            }
            long rdev = Stat.st_rdev(st);
            MemorySegment value = arena.allocate(JAVA_LONG);
            Libc.ioctl(fd, Libc.BLKGETSIZE64, value, "ioctl(BLKGETSIZE64)", name);
            long size = value.get(JAVA_LONG, 0);
            Libc.ioctl(fd, Libc.BLKSSZGET, value, "ioctl(BLKSSZGET)", name);
            int logical = value.get(JAVA_INT, 0);
            Libc.ioctl(fd, Libc.BLKPBSZGET, value, "ioctl(BLKPBSZGET)", name);
            int physical = value.get(JAVA_INT, 0);
            Libc.ioctl(fd, Libc.BLKIOOPT, value, "ioctl(BLKIOOPT)", name);
            int optimal = value.get(JAVA_INT, 0);
            if (size == 0) {
                throw new IOException(name + " has no capacity (a loop device with no backing file?)");
            }
            if (options.direct()) {
                dropPageCache(fd, name);
            }
            Path queue = Path.of("/sys/dev/block/" + Stat.major(rdev) + ":" + Stat.minor(rdev) + "/queue");
            boolean ro = options.readOnly();
            return new BlockSpecialDevice(name, fd, size, options.direct(), ro, logical, physical, optimal,
                    !ro && sysfsLong(queue.resolve("discard_max_bytes")) > 0,
                    !ro && sysfsLong(queue.resolve("write_zeroes_max_bytes")) > 0,
                    sysfs(queue.resolve("write_cache")).startsWith("write back"),
                    sysfsLong(queue.resolve("fua")) == 1);
        } catch (IOException | RuntimeException e) {
            closeQuietly(fd, e);
            throw e;
        }
    }

    /**
     * Drops the device's clean cached pages (left by blkid, a backup, a buffered user before us) and starts
     * writing back dirty ones. An O_DIRECT write over a cached page cannot go ahead without blocking (the kernel
     * writes back and invalidates the range first), so io_uring hands every such write to an io-wq worker
     * thread: measured on a loop device with nbdkit's pages left over, 3x the CPU per 4k write and half the IOPS.
     * Best effort: pages a buffered user of a shared device brings back later still cost that, once each.
     */
    private static void dropPageCache(int fd, String name) {
        try {
            Libc.posixFadvise(fd, 0, 0, Libc.POSIX_FADV_DONTNEED, name);
        } catch (ErrnoException e) {
            System.getLogger(BlockSpecialDevice.class.getName()).log(System.Logger.Level.DEBUG,
                    "not dropping the page cache of " + name + ": " + e.getMessage());
        }
    }

    private static String sysfs(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static long sysfsLong(Path p) {
        String s = sysfs(p);
        try {
            return s.isEmpty() ? 0 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override public String kind() { return "block"; }
    @Override public int logicalBlockSize() { return logical; }
    @Override public int physicalBlockSize() { return physical; }
    @Override public int optimalIoSize() { return optimal; }
    @Override public boolean supportsDiscard() { return discard; }
    @Override public boolean supportsWriteZeroes() { return writeZeroes; }
    @Override public boolean volatileWriteCache() { return writeCache; }
    @Override public boolean pageCacheChoice() { return true; }
    @Override public boolean supportsFua() { return true; } // RWF_DSYNC: FUA where the device has it, else a flush

    @Override
    int fallocateMode(boolean discard) {
        return discard ? -1 : Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE;
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        rangeIoctl(Libc.BLKDISCARD, "ioctl(BLKDISCARD)", offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        rangeIoctl(Libc.BLKZEROOUT, "ioctl(BLKZEROOUT)", offset, length);
    }

    private void rangeIoctl(long request, String call, long offset, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(JAVA_LONG, 2);
            range.setAtIndex(JAVA_LONG, 0, offset);
            range.setAtIndex(JAVA_LONG, 1, length);
            Libc.ioctl(fd, request, range, call, name);
        }
    }

    public static final class Provider implements BlockDeviceProvider {
        @Override public String kind() { return "block"; }

        @Override
        public boolean accepts(String name) {
            if (name.matches("^[a-z]+:.*")) return false;
            try (Arena arena = Arena.ofConfined()) {
                // a cheap check by path type; the open does the real one
                return Files.exists(Path.of(name)) && !Files.isRegularFile(Path.of(name))
                        && !Files.isDirectory(Path.of(name)) && isBlock(name, arena);
            } catch (IOException e) {
                return false;
            }
        }

        private static boolean isBlock(String name, Arena arena) throws IOException {
            Object mode = Files.getAttribute(Path.of(name), "unix:mode");
            return mode instanceof Integer m && (m & Libc.S_IFMT) == Libc.S_IFBLK;
        }

        @Override
        public BlockDevice open(String name, OpenOptions options) throws IOException {
            return BlockSpecialDevice.open(name, options);
        }
    }
}
