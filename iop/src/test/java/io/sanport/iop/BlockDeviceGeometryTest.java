package io.sanport.iop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a device reports when opened, and the words for each way an open is refused. */
class BlockDeviceGeometryTest {
    @TempDir
    Path dir;

    @Test
    void loopDeviceReportsWhatSysfsSays() throws Exception {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        try (LoopDevice loop = LoopDevice.create(24 << 20); BlockDevice dev = BlockDevices.open(loop.device)) {
            assertEquals("block", dev.kind());
            assertEquals(loop.device, dev.name());
            assertEquals(24 << 20, dev.size());
            assertEquals(512, dev.logicalBlockSize());
            assertEquals(Integer.parseInt(loop.queueAttribute("logical_block_size")), dev.logicalBlockSize());
            assertEquals(Integer.parseInt(loop.queueAttribute("physical_block_size")), dev.physicalBlockSize());
            assertEquals(Integer.parseInt(loop.queueAttribute("optimal_io_size")), dev.optimalIoSize());
            assertEquals(Long.parseLong(loop.queueAttribute("discard_max_bytes")) > 0, dev.supportsDiscard());
            assertEquals(Long.parseLong(loop.queueAttribute("write_zeroes_max_bytes")) > 0, dev.supportsWriteZeroes());
            assertEquals(loop.queueAttribute("write_cache").startsWith("write back"), dev.volatileWriteCache());
            // a loop over a tmpfs file punches holes for both
            assertTrue(dev.supportsDiscard() && dev.supportsWriteZeroes(), dev.toString());
            assertTrue(dev.directIo());
            assertFalse(dev.readOnly());
            assertTrue(dev.toString().contains("512-byte blocks, O_DIRECT"), dev.toString());
        }
    }

    /** The open flags of our fd {@code fd}, from /proc (the kernel's word, not the device object's). */
    static int openFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring(6).strip(), 8);
            }
        }
        throw new IOException("no flags in /proc/self/fdinfo/" + fd);
    }

    @Test
    void bufferedOpensAFileThroughThePageCache() throws Exception {
        Path image = dir.resolve("buffered.img");
        try (BlockDevice direct = BlockDevices.open(image.toString(), OpenOptions.DEFAULT.creating(1 << 20));
             BlockDevice buffered = BlockDevices.open(image.toString(), OpenOptions.DEFAULT.buffered())) {
            assertTrue(direct.directIo(), "the temp dir takes O_DIRECT: " + direct);
            assertTrue((openFlags(direct.fd()) & io.sanport.bindings.libc.Libc.O_DIRECT) != 0);
            assertFalse(buffered.directIo());
            assertEquals(0, openFlags(buffered.fd()) & io.sanport.bindings.libc.Libc.O_DIRECT);
            assertTrue(buffered.toString().endsWith(", buffered)"), buffered.toString());
        }
    }

    @Test
    void bufferedOpensABlockDeviceThroughThePageCache() throws Exception {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        try (LoopDevice loop = LoopDevice.create(4 << 20);
             BlockDevice dev = BlockDevices.open(loop.device, OpenOptions.DEFAULT.buffered())) {
            assertEquals("block", dev.kind());
            assertFalse(dev.directIo(), "nvmet's buffered_io holds for block devices too: " + dev);
            assertEquals(0, openFlags(dev.fd()) & io.sanport.bindings.libc.Libc.O_DIRECT);
            // still exclusive: buffered is not shared
            IOException e = assertThrows(IOException.class, () -> BlockDevices.open(loop.device));
            assertTrue(e.getMessage().contains("is in use"), e.getMessage());
        }
    }

    /** How many pages of block device {@code path}'s first {@code length} bytes are in the page cache (mincore). */
    static int cachedPages(String path, long length) throws Throwable {
        java.lang.invoke.MethodHandle mincore = java.lang.foreign.Linker.nativeLinker().downcallHandle(
                java.lang.foreign.Linker.nativeLinker().defaultLookup().find("mincore").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT,
                        java.lang.foreign.ValueLayout.ADDRESS, java.lang.foreign.ValueLayout.JAVA_LONG,
                        java.lang.foreign.ValueLayout.ADDRESS));
        int fd = io.sanport.bindings.libc.Libc.open(path, io.sanport.bindings.libc.Libc.O_RDONLY, 0); // not O_EXCL
        java.lang.foreign.MemorySegment map = io.sanport.bindings.libc.Libc.mmap(length,
                io.sanport.bindings.libc.Libc.PROT_READ, io.sanport.bindings.libc.Libc.MAP_SHARED, fd, 0, path);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            int pages = (int) (length / 4096);
            java.lang.foreign.MemorySegment vec = arena.allocate(pages);
            assertEquals(0, (int) mincore.invokeExact(map, length, vec));
            int cached = 0;
            for (int i = 0; i < pages; i++) {
                cached += vec.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) & 1;
            }
            return cached;
        } finally {
            io.sanport.bindings.libc.Libc.munmap(map);
            io.sanport.bindings.libc.Libc.close(fd);
        }
    }

    @Test
    void anODirectOpenDropsTheDevicesCachedPages() throws Throwable {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        try (LoopDevice loop = LoopDevice.create(4 << 20);
             // the kernel drops a block device's cache at its last close: another user (a second path's
             // process, a buffered reader) keeps it open, and its reads leave the pages cached
             var other = Files.newInputStream(Path.of(loop.device))) {
            other.readAllBytes();
            assertTrue(cachedPages(loop.device, 4 << 20) > 512, "the read should have cached the device");
            // O_DIRECT writes over cached pages would each go to an io-wq worker: the open drops them
            try (BlockDevice dev = BlockDevices.open(loop.device, OpenOptions.DEFAULT.sharing())) {
                assertTrue(dev.directIo());
                assertEquals(0, cachedPages(loop.device, 4 << 20));
            }
        }
    }

    @Test
    void aBlockDeviceInUseIsRefusedInWords() throws Exception {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        try (LoopDevice loop = LoopDevice.create(4 << 20)) {
            try (BlockDevice first = BlockDevices.open(loop.device)) { // O_EXCL: claims it
                IOException e = assertThrows(IOException.class, () -> BlockDevices.open(loop.device));
                assertTrue(e.getMessage().startsWith(loop.device + " is in use"), e.getMessage());
                assertTrue(e.getMessage().contains("exclusively"), e.getMessage());
                IOException readOnly = assertThrows(IOException.class,
                        () -> BlockDevices.open(loop.device, new OpenOptions(true, true, 0)));
                assertTrue(readOnly.getMessage().contains("is in use"), readOnly.getMessage());
                assertEquals(4 << 20, first.size(), "the first open is untouched by the refused one");
            }
            try (BlockDevice again = BlockDevices.open(loop.device)) { // released at close
                assertEquals(4 << 20, again.size());
            }
        }
    }

    @Test
    void aSharedBlockDeviceOpensTwice() throws Exception {
        assumeTrue(LoopDevice.available(), "needs root and losetup (CI has both)");
        try (LoopDevice loop = LoopDevice.create(4 << 20);
             BlockDevice first = BlockDevices.open(loop.device, OpenOptions.DEFAULT.sharing());
             BlockDevice second = BlockDevices.open(loop.device, OpenOptions.DEFAULT.sharing())) {
            // two processes serving one subsystem each hold it: neither claims it exclusively
            assertEquals(first.size(), second.size());
            assertTrue(first.directIo() && second.directIo());
            try (BlockDevice third = BlockDevices.open(loop.device, OpenOptions.DEFAULT.sharing())) {
                assertEquals(4 << 20, third.size());
            }
        }
        try (LoopDevice loop = LoopDevice.create(4 << 20); BlockDevice excl = BlockDevices.open(loop.device)) {
            IOException e = assertThrows(IOException.class, () -> BlockDevices.open(loop.device));
            assertTrue(e.getMessage().contains("unless told the device is shared"), e.getMessage());
        }
    }

    @Test
    void aMissingFileWithoutASizeSaysNoSuchFile() {
        Path missing = dir.resolve("missing.img");
        IOException e = assertThrows(IOException.class, () -> BlockDevices.open(missing.toString()));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertFalse(Files.exists(missing), "a refused open creates nothing");
    }

    @Test
    void creatingMakesASparseFileOfTheRequestedSize() throws Exception {
        Path image = dir.resolve("sub/dir/sparse.img");
        long size = 1L << 30;
        try (BlockDevice dev = BlockDevices.open(image.toString(), OpenOptions.DEFAULT.creating(size))) {
            assertEquals("file", dev.kind());
            assertEquals(size, dev.size());
            assertEquals(512, dev.logicalBlockSize());
        }
        assertEquals(size, Files.size(image));
        String[] stat = LoopDevice.run("stat", "-c", "%b %B", image.toString()).strip().split(" ");
        long allocated = Long.parseLong(stat[0]) * Long.parseLong(stat[1]);
        assertTrue(allocated <= 64 * 1024, "a created image is sparse, yet " + allocated + " bytes are allocated");

        // an existing image is opened as it is: the size to create with does not resize it
        try (BlockDevice dev = BlockDevices.open(image.toString(), OpenOptions.DEFAULT.creating(2 * size))) {
            assertEquals(size, dev.size());
        }
        IOException odd = assertThrows(IOException.class,
                () -> BlockDevices.open(dir.resolve("odd.img").toString(), OpenOptions.DEFAULT.creating(1000)));
        assertTrue(odd.getMessage().contains("not a multiple of 512"), odd.getMessage());
    }

    @Test
    void badRamSpecsAreRefusedInWords() throws Exception {
        IOException zero = assertThrows(IOException.class, () -> BlockDevices.open("ram:0"));
        assertTrue(zero.getMessage().contains("non-zero multiple of 512"), zero.getMessage());
        IOException odd = assertThrows(IOException.class, () -> BlockDevices.open("ram:1000"));
        assertTrue(odd.getMessage().contains("non-zero multiple of 512"), odd.getMessage());
        IOException abc = assertThrows(IOException.class, () -> BlockDevices.open("ram:abc"));
        assertTrue(abc.getMessage().contains("not a size: 'abc'"), abc.getMessage());
        assertTrue(abc.getMessage().contains("64M"), "gives examples: " + abc.getMessage());
        try (BlockDevice ram = BlockDevices.open("ram:1m")) {
            assertEquals(1 << 20, ram.size());
            assertEquals("ram", ram.kind());
        }
    }

    @Test
    void parseSize() {
        assertEquals(4096, BlockDevices.parseSize("4096"));
        assertEquals(0, BlockDevices.parseSize("0"));
        assertEquals(4096, BlockDevices.parseSize("4k"));
        assertEquals(4096, BlockDevices.parseSize("4K"));
        assertEquals(4096, BlockDevices.parseSize("4KiB"));
        assertEquals(4096, BlockDevices.parseSize("4kb"));
        assertEquals(64L << 20, BlockDevices.parseSize("64M"));
        assertEquals(64L << 20, BlockDevices.parseSize(" 64m "));
        assertEquals(1L << 30, BlockDevices.parseSize("1G"));
        assertEquals(1L << 30, BlockDevices.parseSize("1GiB"));
        assertEquals(2L << 40, BlockDevices.parseSize("2T"));
        assertEquals(512, BlockDevices.parseSize("512b"));
        for (String bad : new String[] {"", " ", "abc", "-1", "-4k", "1.5G", "k", "GiB", "4 k", "0x10", "4P",
                "9999999999T", "9223372036854775808"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BlockDevices.parseSize(bad),
                    "'" + bad + "' is not a size");
            assertTrue(e.getMessage().startsWith("not a size: '" + bad + "'"), e.getMessage());
        }
    }
}
