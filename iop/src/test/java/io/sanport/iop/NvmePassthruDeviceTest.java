package io.sanport.iop;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.bindings.Errno;
import io.sanport.bindings.nvme.NvmeUringCmd;
import io.sanport.nvme.DsmRange;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The NVMe commands the nvme-passthru kind writes, field by field (NVM Command Set 1.0 §3: SLBA in CDW10-11,
 * zero-based NLB in CDW12, FUA bit 30, DSM NR zero-based with the AD attribute), the completion translation,
 * and the provider's choice. The device itself runs in the VM (tests/vm/iop-nvme.sh).
 */
class NvmePassthruDeviceTest {
    static final int NSID = 3;

    private static MemorySegment command(Arena arena) {
        MemorySegment s = arena.allocate(256, 8);
        s.fill((byte) 0x5a); // stale bytes the encoder must clear
        return s;
    }

    @Test
    void readAndFuaWrite() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = command(arena);
            long slba = 0x1_2345_6789L;
            NvmePassthruDevice.encodeReadWrite(s, 48, IoOpcode.WRITE, NSID, slba, 8, 0x7000_0000L, 4096, true);
            assertEquals(IoOpcode.WRITE, NvmeUringCmd.opcode(s, 48));
            assertEquals(NSID, NvmeUringCmd.nsid(s, 48));
            assertEquals(0x7000_0000L, NvmeUringCmd.addr(s, 48));
            assertEquals(4096, NvmeUringCmd.data_len(s, 48));
            assertEquals(0x2345_6789, NvmeUringCmd.cdw10(s, 48));
            assertEquals(1, NvmeUringCmd.cdw11(s, 48));
            assertEquals(7 | 1 << 30, NvmeUringCmd.cdw12(s, 48), "NLB is zero-based, FUA is bit 30");
            assertEquals(0, s.get(JAVA_LONG, 48 + NvmeUringCmd.METADATA));
            assertEquals(0, s.get(JAVA_INT, 48 + NvmeUringCmd.TIMEOUT_MS));
            assertEquals(0, s.get(JAVA_INT, 48 + NvmeUringCmd.CDW13));
            assertEquals(0, s.get(JAVA_INT, 48 + NvmeUringCmd.RSVD2));

            NvmePassthruDevice.encodeReadWrite(s, 48, IoOpcode.READ, NSID, 0, 1, 0x1000, 512, false);
            assertEquals(IoOpcode.READ, NvmeUringCmd.opcode(s, 48));
            assertEquals(0, NvmeUringCmd.cdw12(s, 48));
            assertEquals(0x5a5a5a5a, s.get(JAVA_INT, 48 + NvmeUringCmd.SIZE), "the encoder stays inside its 72 bytes");
        }
    }

    @Test
    void flushWriteZeroesAndDeallocate() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = command(arena);
            NvmePassthruDevice.encodeFlush(s, 0, NSID);
            assertEquals(IoOpcode.FLUSH, NvmeUringCmd.opcode(s, 0));
            assertEquals(NSID, NvmeUringCmd.nsid(s, 0));
            assertEquals(0, NvmeUringCmd.data_len(s, 0));

            NvmePassthruDevice.encodeWriteZeroes(s, 0, NSID, 100, 65536);
            assertEquals(IoOpcode.WRITE_ZEROES, NvmeUringCmd.opcode(s, 0));
            assertEquals(100, NvmeUringCmd.cdw10(s, 0));
            assertEquals(0xFFFF, NvmeUringCmd.cdw12(s, 0));
            assertEquals(0, NvmeUringCmd.addr(s, 0));

            MemorySegment range = arena.allocate(16, 16);
            NvmePassthruDevice.encodeDeallocate(s, 0, NSID, 1L << 33, 70000, range.address());
            assertEquals(IoOpcode.DSM, NvmeUringCmd.opcode(s, 0));
            assertEquals(range.address(), NvmeUringCmd.addr(s, 0));
            assertEquals(16, NvmeUringCmd.data_len(s, 0));
            assertEquals(0, NvmeUringCmd.cdw10(s, 0), "NR is zero-based: one range");
            assertEquals(1 << 2, NvmeUringCmd.cdw11(s, 0), "Attribute - Deallocate");
            assertEquals(0, DsmRange.contextAttributes(range));
            assertEquals(70000, DsmRange.nlb(range), "a DSM range counts blocks, not zero-based");
            assertEquals(1L << 33, DsmRange.slba(range));
        }
    }

    @Test
    void completionsBecomeResults() {
        IoRequest read = new IoRequest().read(0, 8192, 4096, 0);
        assertEquals(4096, NvmePassthruDevice.translate(read, 0));
        IoRequest flush = new IoRequest().flush(0);
        assertEquals(0, NvmePassthruDevice.translate(flush, 0));
        IoRequest failed = new IoRequest().read(0, 8192, 4096, 0);
        assertEquals(-Errno.EINVAL, NvmePassthruDevice.translate(failed, -Errno.EINVAL));
        assertEquals(0, failed.nvmeStatus());
    }

    /** Linux hands back the CQE status shifted right by one: SCT<<8 | SC, More 0x2000, DNR 0x4000. */
    @Test
    void anNvmeStatusIsKeptAndNamed() {
        IoRequest r = new IoRequest().read(0, 1L << 40, 4096, 0);
        assertEquals(-Errno.EIO, NvmePassthruDevice.translate(r, Status.LBA_RANGE | 0x4000));
        assertFalse(r.succeeded());
        assertEquals(Status.LBA_RANGE | 0x4000, r.nvmeStatus());
        assertEquals("read of 4096 bytes at offset 1099511627776 on device 0: NVMe status 0x0080 (LBA Out of Range, "
                + "sct 0x0 sc 0x80, DNR)", r.describe(null));
        r.read(0, 0, 4096, 0);
        assertEquals(0, r.nvmeStatus(), "reusing the request clears the status");
        assertTrue(NvmePassthruDevice.statusText(Status.WRITE_FAULT).startsWith("NVMe status 0x0280 (Write Fault"));
    }

    @Test
    void providerTakesCharDevicesAndRefusesOthersInWords() throws Exception {
        NvmePassthruDevice.Provider p = new NvmePassthruDevice.Provider();
        assertEquals("nvme-passthru", p.kind());
        assertTrue(p.accepts("/dev/null"), "a char device");
        assertTrue(p.accepts("nvme-passthru:/dev/ng0n1"));
        assertFalse(p.accepts("ram:64M"));
        assertFalse(p.accepts("/nonexistent/ng9n9"));
        Path file = Files.createTempFile("np", ".img");
        try {
            assertFalse(p.accepts(file.toString()));
            IOException notChar = assertThrows(IOException.class, () -> p.open("nvme-passthru:" + file, OpenOptions.DEFAULT));
            assertTrue(notChar.getMessage().contains("is not a character device"), notChar.getMessage());
        } finally {
            Files.delete(file);
        }
        IOException notNvme = assertThrows(IOException.class, () -> BlockDevices.open("/dev/null"));
        assertTrue(notNvme.getMessage().contains("is not an NVMe namespace char device"), notNvme.getMessage());
        assertTrue(BlockDevices.kinds().contains("nvme-passthru"));
    }

    /** Write Zeroes beyond 64Ki blocks and DSM beyond 2^32-1 blocks take more than one command: blocking path. */
    @Test
    void largeRequestsGoToTheBlockingPath() {
        assertFalse(NvmePassthruDevice.needsOffload(new IoRequest().writeZeroes(0, 0, 65536L * 512), 9));
        assertTrue(NvmePassthruDevice.needsOffload(new IoRequest().writeZeroes(0, 0, 65537L * 512), 9));
        assertFalse(NvmePassthruDevice.needsOffload(new IoRequest().writeZeroes(0, 0, 65537L * 512), 12));
        assertFalse(NvmePassthruDevice.needsOffload(new IoRequest().discard(0, 0, 1L << 40), 9), "one DSM range");
        assertTrue(NvmePassthruDevice.needsOffload(new IoRequest().discard(0, 0, 1L << 41), 9));
        assertFalse(NvmePassthruDevice.needsOffload(new IoRequest().read(0, 0, 1 << 20, 0), 9));
    }

    /**
     * The kernel's own bound on a passthrough command, from the sysfs queue of the namespace's block device beside
     * the char device under its controller (here a copy of that shape): max_hw_sectors_kb and max_segments pages.
     */
    @Test
    void theKernelsLimitComesFromTheNamespacesQueueInSysfs(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path controller = Files.createDirectories(dir.resolve("devices/pci0000:00/nvme/nvme3"));
        Files.createDirectories(controller.resolve("ng3n2"));
        for (String[] q : new String[][] {{"nvme3n2", "64", "127"}, {"nvme3n1", "4", "1"}, {"nvme3n20", "4", "1"}}) {
            Path queue = Files.createDirectories(controller.resolve(q[0]).resolve("queue"));
            Files.writeString(queue.resolve("max_hw_sectors_kb"), q[1] + "\n");
            Files.writeString(queue.resolve("max_segments"), q[2] + "\n");
        }
        Path generic = Files.createDirectories(dir.resolve("class/nvme-generic"));
        Files.createSymbolicLink(generic.resolve("ng3n2"), controller.resolve("ng3n2"));
        Path dev = Files.createFile(dir.resolve("ng3n2"));
        assertEquals(64 * 1024, NvmePassthruDevice.kernelMaxTransfer(generic, dev.toString()),
                "namespace 2's queue only, not namespace 1's or 20's");

        Files.writeString(controller.resolve("nvme3n2/queue/max_segments"), "8\n");
        assertEquals(8 * 4096, NvmePassthruDevice.kernelMaxTransfer(generic, dev.toString()),
                "one page per segment from plain user memory");
        Files.createDirectories(controller.resolve("nvme0c3n2/queue")); // a multipath path device: counted too
        Files.writeString(controller.resolve("nvme0c3n2/queue/max_hw_sectors_kb"), "16\n");
        assertEquals(16 * 1024, NvmePassthruDevice.kernelMaxTransfer(generic, dev.toString()));
        assertEquals(Long.MAX_VALUE, NvmePassthruDevice.kernelMaxTransfer(generic, dir.resolve("nothing").toString()),
                "nothing in sysfs: MDTS alone bounds");
    }
}
