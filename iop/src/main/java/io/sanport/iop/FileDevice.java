package io.sanport.iop;

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
 * A regular file (an image), like nvmet's io-cmd-file.c. Discard punches holes and write-zeroes zeroes a
 * range, both by fallocate(2), so the reactor runs them as IORING_OP_FALLOCATE without blocking.
 */
final class FileDevice extends FdDevice {
    static final int SECTOR = 512;
    private final int physicalBlockSize;
    private final int discardMode;
    private final int zeroesMode;
    private final boolean directRequested;

    private FileDevice(String name, int fd, long size, boolean direct, boolean directRequested, boolean readOnly,
                       int physical, int discardMode, int zeroesMode) {
        super(name, fd, size, direct, readOnly);
        this.directRequested = directRequested;
        this.physicalBlockSize = physical;
        this.discardMode = discardMode;
        this.zeroesMode = zeroesMode;
    }

    static BlockDevice open(Path path, OpenOptions options) throws IOException {
        String name = path.toString();
        if (options.createSize() > 0 && !Files.exists(path)) {
            create(path, options.createSize());
        }
        int access = (options.readOnly() ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC;
        int fd;
        boolean direct = options.direct();
        try {
            fd = Libc.open(name, access | (direct ? Libc.O_DIRECT : 0), 0);
        } catch (ErrnoException e) {
            if (!direct || e.errno() != Errno.EINVAL) {
                throw e;
            }
            // the filesystem has no O_DIRECT (tmpfs before 6.6, some FUSE): serve through the page cache
            direct = false;
            fd = Libc.open(name, access, 0);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Stat.LAYOUT);
            Libc.fstat(fd, st, name);
            if ((Stat.st_mode(st) & Libc.S_IFMT) != Libc.S_IFREG) {
                throw new IOException(name + " is not a regular file");
            }
            long size = Stat.st_size(st) & -SECTOR;
            if (size == 0) {
                throw new IOException(name + " is empty (" + Stat.st_size(st) + " bytes): an image needs at least one "
                        + SECTOR + "-byte block");
            }
            int physical = (int) Math.max(SECTOR, Math.min(Stat.st_blksize(st), 1 << 16));
            boolean rw = !options.readOnly();
            int discard = rw ? probeFallocate(fd, size, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE) : -1;
            int zeroes = rw ? probeFallocate(fd, size, Libc.FALLOC_FL_ZERO_RANGE | Libc.FALLOC_FL_KEEP_SIZE) : -1;
            if (zeroes < 0) {
                zeroes = discard; // a punched hole reads back as zeroes
            }
            return new FileDevice(name, fd, size, direct, options.direct(), options.readOnly(), physical, discard, zeroes);
        } catch (IOException | RuntimeException e) {
            closeQuietly(fd, e);
            throw e;
        }
    }

    /** Whether this filesystem takes a fallocate mode: tried past EOF with KEEP_SIZE, so no data is touched. */
    private static int probeFallocate(int fd, long size, int mode) {
        try {
            Libc.fallocate(fd, mode, size, 4096, "probe");
        } catch (ErrnoException e) {
            return -1;
        }
        try {
            Libc.fallocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, size, 4096, "probe");
        } catch (ErrnoException e) {
            // the mode works; only the probe's block past EOF stays allocated
        }
        return mode;
    }

    private static void create(Path path, long size) throws IOException {
        if (size % SECTOR != 0) {
            throw new IOException("cannot create " + path + ": size " + size + " is not a multiple of " + SECTOR);
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        int fd = Libc.open(path.toString(), Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0644);
        try {
            Libc.ftruncate(fd, size, path); // sparse: no block is written until used
        } finally {
            Libc.close(fd);
        }
    }

    @Override public String kind() { return "file"; }
    @Override public boolean directRequested() { return directRequested; }
    @Override public int logicalBlockSize() { return SECTOR; }
    @Override public int physicalBlockSize() { return physicalBlockSize; }
    @Override public int optimalIoSize() { return 0; }
    @Override public boolean supportsDiscard() { return discardMode >= 0; }
    @Override public boolean supportsWriteZeroes() { return zeroesMode >= 0; }
    @Override public boolean deallocateReadsZeroes() { return discardMode >= 0; } // discard punches a hole
    @Override public boolean volatileWriteCache() { return true; }
    @Override public boolean supportsFua() { return true; }
    @Override public boolean pageCacheChoice() { return true; }
    @Override int fallocateMode(boolean discard) { return discard ? discardMode : zeroesMode; }

    @Override
    public void discard(long offset, long length) throws IOException {
        Libc.fallocate(fd, requireMode(discardMode, "discard"), offset, length, name);
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        Libc.fallocate(fd, requireMode(zeroesMode, "write zeroes"), offset, length, name);
    }

    private int requireMode(int mode, String what) throws IOException {
        if (mode < 0) {
            throw new IOException(name + ": the filesystem does not support " + what + " (fallocate)");
        }
        return mode;
    }

    /** Opens regular files and paths that do not exist yet (created when a size is given). */
    public static final class Provider implements BlockDeviceProvider {
        @Override public String kind() { return "file"; }

        @Override
        public boolean accepts(String name) {
            if (name.startsWith("file:")) return true;
            if (name.matches("^[a-z]+:.*")) return false;
            Path p = Path.of(name);
            return Files.isRegularFile(p) || !Files.exists(p);
        }

        @Override
        public BlockDevice open(String name, OpenOptions options) throws IOException {
            Path path = Path.of(name.startsWith("file:") ? name.substring(5) : name);
            if (!Files.exists(path) && options.createSize() == 0) {
                throw new IOException(path + ": no such file (give a size to create an image)");
            }
            return FileDevice.open(path, options);
        }
    }
}
