package io.sanport.iop;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.Stat;
import io.sanport.bindings.nvme.NvmeIoctl;
import io.sanport.bindings.nvme.NvmePassthruCmd;
import io.sanport.bindings.nvme.NvmeUringCmd;
import io.sanport.bindings.uring.IoUringSqe;
import io.sanport.bindings.uring.Liburing;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.DsmRange;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An NVMe namespace through its generic char device (/dev/ngXnY): every I/O is an NVMe command handed to the
 * driver by IORING_OP_URING_CMD (cmd_op NVME_URING_CMD_IO, {@code struct nvme_uring_cmd} in a 128-byte SQE),
 * so the block layer's bio splitting, merging and partition checks are skipped (nvmet's passthru backend).
 *
 * <p>Geometry and capabilities come from the controller itself, Identify Namespace and Identify Controller
 * through NVME_IOCTL_ADMIN_CMD, not from the sysfs of a matching nvmeXnY: a namespace the block layer cannot
 * represent (separate metadata, an unsupported command set) has a char device but no block device, and with
 * multipath the two names do not match. Both ioctls and the passthrough I/O need CAP_SYS_ADMIN on Linux 6.1
 * (6.2 relaxes I/O to write access), so the admin path costs no privilege the I/O did not already need.
 *
 * <p>Open probes one fixed-buffer read of LBA 0 (IORING_URING_CMD_FIXED) laid out like the reactor's: where the
 * kernel refuses it (Linux 6.1 does, see {@link #probeFixedBuffers}) I/O goes from plain user addresses, which
 * the driver pins per command; when even that fails the device is refused with the cause.
 */
final class NvmePassthruDevice extends FdDevice {
    static final String KIND = "nvme-passthru";
    static final String PREFIX = KIND + ":";
    /** NLB of Read, Write and Write Zeroes is 16 bits, zero-based. */
    static final long MAX_BLOCKS_PER_COMMAND = 1 << 16;
    /** DSM Attribute - Deallocate (CDW11 bit 2), NVM Command Set 1.0 §3.2.3. */
    static final int DSM_ATTRIBUTE_DEALLOCATE = 1 << 2;
    /** Force Unit Access, CDW12 bit 30 of Read and Write. */
    static final int CDW12_FUA = 1 << 30;

    private final int nsid;
    private final int lbaShift;
    private final int physical;
    private final int optimal;
    private final long maxTransfer;
    private final boolean dsm;
    private final boolean writeZeroes;
    private final boolean writeCache;
    private final boolean fixedBuffers;
    private final String fixedBuffersCause;

    /** What {@link #open} learned from the controller; tests give it directly to check the SQEs it writes. */
    NvmePassthruDevice(String name, int fd, long size, boolean readOnly, int nsid, int lbaShift, int physical,
                       int optimal, long maxTransfer, boolean dsm, boolean writeZeroes, boolean writeCache,
                       boolean fixedBuffers, String fixedBuffersCause) {
        super(name, fd, size, true, readOnly);
        this.nsid = nsid;
        this.lbaShift = lbaShift;
        this.physical = physical;
        this.optimal = optimal;
        this.maxTransfer = maxTransfer;
        this.dsm = dsm;
        this.writeZeroes = writeZeroes;
        this.writeCache = writeCache;
        this.fixedBuffers = fixedBuffers;
        this.fixedBuffersCause = fixedBuffersCause;
    }

    static NvmePassthruDevice open(String spec, OpenOptions options) throws IOException {
        String name = spec.startsWith(PREFIX) ? spec.substring(PREFIX.length()) : spec;
        int fd = Libc.open(name, (options.readOnly() ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Stat.LAYOUT);
            Libc.fstat(fd, st, name);
            if ((Stat.st_mode(st) & Libc.S_IFMT) != Libc.S_IFCHR) {
                throw new IOException(name + " is not a character device: the nvme-passthru kind takes an NVMe "
                        + "generic char device such as /dev/ng0n1");
            }
            int nsid;
            try {
                nsid = Libc.ioctl(fd, NvmeIoctl.NVME_IOCTL_ID, MemorySegment.NULL, "ioctl(NVME_IOCTL_ID)", name);
            } catch (ErrnoException e) {
                throw new IOException(name + " is not an NVMe namespace char device (/dev/ngXnY): " + e.getMessage(), e);
            }
            MemorySegment id = arena.allocate(4096, 4096);
            identify(fd, name, nsid, IdentifyCns.NS, id, arena);
            long nsze = IdentifyNamespace.nsze(id);
            int flbas = IdentifyNamespace.flbas(id);
            int format = (flbas & IdentifyNamespace.FLBAS_INDEX_MASK)
                    | (flbas & IdentifyNamespace.FLBAS_INDEX_HIGH_MASK) >> 1;
            long lbaf = IdentifyNamespace.OFFSET_LBAF + (long) format * IdentifyNamespace.LBAF_SIZE;
            int ms = Short.toUnsignedInt(id.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, lbaf));
            int lbaShift = Byte.toUnsignedInt(id.get(java.lang.foreign.ValueLayout.JAVA_BYTE, lbaf + 2));
            if (nsze == 0) {
                throw new IOException(name + ": namespace " + nsid + " has no capacity (Identify Namespace NSZE 0)");
            }
            if (lbaShift < 9 || lbaShift > 16) {
                throw new IOException(name + ": LBA format " + format + " has an unusable data size 2^" + lbaShift);
            }
            if (ms != 0 || IdentifyNamespace.dps(id) != 0) {
                throw new IOException(name + ": LBA format " + format + " carries " + ms + " bytes of metadata per "
                        + "block (or protection information): sanport's passthrough moves data only; reformat "
                        + "the namespace with a metadata-free LBA format (nvme format --lbaf)");
            }
            boolean ioOpt = (IdentifyNamespace.nsfeat(id) & IdentifyNamespace.NSFEAT_IO_OPT) != 0;
            int lba = 1 << lbaShift;
            int physical = ioOpt ? (IdentifyNamespace.npwg(id) + 1) * lba : lba;
            int optimal = ioOpt && IdentifyNamespace.nows(id) != 0 ? (IdentifyNamespace.nows(id) + 1) * lba : 0;
            boolean protectedNs = (IdentifyNamespace.nsattr(id) & IdentifyNamespace.NSATTR_WRITE_PROTECTED) != 0;

            identify(fd, name, 0, IdentifyCns.CTRL, id, arena);
            int oncs = IdentifyController.oncs(id);
            int mdts = IdentifyController.mdts(id);
            boolean vwc = (IdentifyController.vwc(id) & IdentifyController.VWC_PRESENT) != 0;
            // MDTS is in units of CAP.MPSMIN, 4 KiB on every controller Linux drives; Linux caps it at 4 MiB, and
            // lower where DMA mapping limits it (swiotlb, an IOMMU): its own limit is what the kernel checks
            long maxTransfer = Math.min(Math.min(mdts == 0 ? Long.MAX_VALUE : 4096L << mdts, 4L << 20),
                    kernelMaxTransfer(Path.of("/sys/class/nvme-generic"), name));

            boolean ro = options.readOnly() || protectedNs;
            String fixedCause = probeFixedBuffers(fd, name, nsid, lbaShift, arena);
            return new NvmePassthruDevice(name, fd, nsze << lbaShift, ro, nsid, lbaShift, physical, optimal,
                    maxTransfer, !ro && (oncs & IdentifyController.ONCS_DSM) != 0,
                    !ro && (oncs & IdentifyController.ONCS_WRITE_ZEROES) != 0, vwc, fixedCause == null, fixedCause);
        } catch (IOException | RuntimeException e) {
            closeQuietly(fd, e);
            throw e;
        }
    }

    /**
     * What the kernel lets one passthrough command of char device {@code name} carry, from the sysfs queue limits of
     * the namespace's block device (nvmeXnY, or the path device nvmeScXnY under multipath, beside ngXnY under the
     * controller): max_hw_sectors_kb, and max_segments pages, since a command from plain user memory maps each page
     * as one segment. Long.MAX_VALUE when sysfs does not say: MDTS then
     * bounds alone. {@code nvmeGeneric}: /sys/class/nvme-generic (a copy of its shape in tests).
     */
    static long kernelMaxTransfer(Path nvmeGeneric, String name) {
        try {
            String ng = Path.of(name).toRealPath().getFileName().toString();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("ng\\d+n(\\d+)").matcher(ng);
            if (!m.matches()) {
                return Long.MAX_VALUE;
            }
            String ns = "n" + m.group(1);
            Path controller = nvmeGeneric.resolve(ng).toRealPath().getParent();
            long limit = Long.MAX_VALUE;
            try (var disks = Files.list(controller)) {
                for (Path disk : (Iterable<Path>) disks::iterator) {
                    String d = disk.getFileName().toString();
                    Path queue = disk.resolve("queue");
                    if (d.matches("nvme\\d+(c\\d+)?" + ns) && Files.isDirectory(queue)) {
                        limit = Math.min(limit, readLong(queue.resolve("max_hw_sectors_kb")) << 10);
                        limit = Math.min(limit, readLong(queue.resolve("max_segments")) * 4096);
                    }
                }
            }
            return limit > 0 ? limit : Long.MAX_VALUE;
        } catch (IOException | RuntimeException e) {
            return Long.MAX_VALUE;
        }
    }

    private static long readLong(Path p) throws IOException {
        return Files.isReadable(p) ? Long.parseLong(Files.readString(p).trim()) : Long.MAX_VALUE >> 12;
    }

    /** Identify (admin opcode 0x06) through NVME_IOCTL_ADMIN_CMD into the 4 KiB {@code out}. */
    private static void identify(int fd, String name, int nsid, int cns, MemorySegment out, Arena arena)
            throws IOException {
        MemorySegment cmd = arena.allocate(NvmePassthruCmd.LAYOUT);
        NvmePassthruCmd.opcode(cmd, (byte) AdminOpcode.IDENTIFY);
        NvmePassthruCmd.nsid(cmd, nsid);
        NvmePassthruCmd.addr(cmd, out.address());
        NvmePassthruCmd.data_len(cmd, (int) out.byteSize());
        NvmePassthruCmd.cdw10(cmd, cns);
        String what = "Identify " + (cns == IdentifyCns.NS ? "Namespace " + nsid : "Controller");
        int rc;
        try {
            rc = Libc.ioctl(fd, NvmeIoctl.NVME_IOCTL_ADMIN_CMD, cmd, "ioctl(NVME_IOCTL_ADMIN_CMD, " + what + ")", name);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EACCES || e.errno() == Errno.EPERM) {
                throw new IOException(name + ": NVMe passthrough needs CAP_SYS_ADMIN on this kernel (run sanport "
                        + "as root with it; sanport.service grants it only through a drop-in, see the README; "
                        + "or use the block device /dev/nvmeXnY instead)", e);
            }
            throw e;
        }
        if (rc > 0) {
            throw new IOException(name + ": " + what + " failed: " + statusText(rc));
        }
    }

    /**
     * One read of LBA 0 on a throw-away SQE128 ring with IORING_URING_CMD_FIXED, laid out as the reactor's
     * reads are: into the start of a registered buffer pool of the default reactor's size. Null when the kernel
     * takes it, else why not. Linux 6.1 has the flag, but its blk_rq_map_user_bvec counts every page from the
     * I/O to the end of the registered buffer against the queue's max_segments and refuses with EINVAL (measured:
     * a 16 KiB region works, the reactor's 32 MiB pool does not), so there I/O goes from plain user addresses.
     * Any other failure refuses the device with its cause.
     */
    private static String probeFixedBuffers(int fd, String name, int nsid, int lbaShift, Arena arena) throws IOException {
        MemoryLock.ensure(ReactorConfig.DEFAULT.bufferBytes());
        try (BufferPool pool = BufferPool.map(ReactorConfig.DEFAULT.bufferSize(), ReactorConfig.DEFAULT.bufferCount());
             Ring ring = Ring.open(arena, 2, Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32)) {
            ring.registerBuffer(pool.region(), arena);
            ring.registerFiles(new int[] {fd}, arena);
            int res = probeRead(ring, nsid, pool.address(0), 1 << lbaShift, true);
            if (res == 0) {
                return null;
            }
            int plain = probeRead(ring, nsid, pool.address(0), 1 << lbaShift, false);
            if (plain != 0) {
                throw new IOException(name + ": NVMe passthrough read of LBA 0 through io_uring failed: "
                        + (plain > 0 ? statusText(plain) : Errno.describe(-plain)
                        + (plain == -Errno.EOPNOTSUPP ? " (this kernel has no io_uring passthrough: Linux 5.19+)" : "")));
            }
            return "a fixed-buffer read at the start of a registered pool fails with "
                    + (res > 0 ? statusText(res) : Errno.describe(-res))
                    + (res == -Errno.EINVAL ? " (Linux 6.1 counts the pages to the end of the registered buffer "
                    + "against max_segments)" : "");
        }
    }

    private static int probeRead(Ring ring, int nsid, long address, int length, boolean fixed) {
        SubmissionQueue sq = ring.sq();
        long at = sq.prepUringCmd(0, (int) NvmeIoctl.NVME_URING_CMD_IO, fixed ? NvmeIoctl.IORING_URING_CMD_FIXED : 0,
                0, 1);
        encodeReadWrite(sq.sqes(), at + IoUringSqe.CMD, IoOpcode.READ, nsid, 0, 1, address, length, false);
        int rc = ring.submitAndWait(1);
        if (rc < 0) {
            return rc;
        }
        int[] res = new int[1];
        ring.cq().reap((userData, r, flags) -> res[0] = r);
        return res[0];
    }

    // ---------------------------------------------------------------- commands (struct nvme_uring_cmd)

    /** Zeroes the 72-byte command at {@code at}: reserved fields, metadata and timeout must be 0. */
    static void clear(MemorySegment s, long at) {
        for (long i = 0; i < NvmeUringCmd.SIZE; i += 8) {
            s.set(JAVA_LONG, at + i, 0L);
        }
    }

    /** Read (0x02) or Write (0x01): SLBA in CDW10-11, zero-based NLB in CDW12 bits 15:0, FUA in bit 30. */
    static void encodeReadWrite(MemorySegment s, long at, int opcode, int nsid, long slba, long blocks, long address,
                                int length, boolean fua) {
        clear(s, at);
        NvmeUringCmd.opcode(s, at, (byte) opcode);
        NvmeUringCmd.nsid(s, at, nsid);
        NvmeUringCmd.addr(s, at, address);
        NvmeUringCmd.data_len(s, at, length);
        NvmeUringCmd.cdw10(s, at, (int) slba);
        NvmeUringCmd.cdw11(s, at, (int) (slba >>> 32));
        // more than 64Ki blocks never fits one command; the kernel refuses the length first (max_hw_sectors <= 4 MiB)
        NvmeUringCmd.cdw12(s, at, (int) Math.min(blocks - 1, 0xFFFF) | (fua ? CDW12_FUA : 0));
    }

    /** Write Zeroes (0x08): like a write without data. */
    static void encodeWriteZeroes(MemorySegment s, long at, int nsid, long slba, long blocks) {
        clear(s, at);
        NvmeUringCmd.opcode(s, at, (byte) IoOpcode.WRITE_ZEROES);
        NvmeUringCmd.nsid(s, at, nsid);
        NvmeUringCmd.cdw10(s, at, (int) slba);
        NvmeUringCmd.cdw11(s, at, (int) (slba >>> 32));
        NvmeUringCmd.cdw12(s, at, (int) (blocks - 1));
    }

    /** Dataset Management (0x09), one range (NR 0, zero-based) with the Deallocate attribute: discard. */
    static void encodeDeallocate(MemorySegment s, long at, int nsid, long slba, long blocks, long range) {
        MemorySegment r = MemorySegment.ofAddress(range).reinterpret(DsmRange.SIZE);
        r.set(JAVA_INT, DsmRange.OFFSET_CONTEXT_ATTRIBUTES, 0);
        r.set(JAVA_INT, DsmRange.OFFSET_NLB, (int) blocks); // a count, not zero-based
        r.set(JAVA_LONG, DsmRange.OFFSET_SLBA, slba);
        clear(s, at);
        NvmeUringCmd.opcode(s, at, (byte) IoOpcode.DSM);
        NvmeUringCmd.nsid(s, at, nsid);
        NvmeUringCmd.addr(s, at, range);
        NvmeUringCmd.data_len(s, at, (int) DsmRange.SIZE);
        NvmeUringCmd.cdw10(s, at, 0);
        NvmeUringCmd.cdw11(s, at, DSM_ATTRIBUTE_DEALLOCATE);
    }

    /** Flush (0x00) of the namespace's volatile write cache. */
    static void encodeFlush(MemorySegment s, long at, int nsid) {
        clear(s, at);
        NvmeUringCmd.opcode(s, at, (byte) IoOpcode.FLUSH);
        NvmeUringCmd.nsid(s, at, nsid);
    }

    /** "LBA Out of Range, sct 0x0 sc 0x80, DNR" for Linux's NVMe status (SCT<<8|SC, More/DNR above). */
    static String statusText(int status) {
        return String.format("NVMe status 0x%04x (", status & 0x7ff)
                + Status.describe(status << Status.SC_SHIFT).replaceFirst(" \\(", ", ");
    }

    // ---------------------------------------------------------------- driven by NVMe commands

    /** nvme_ns_uring_cmd refuses any other ring. */
    @Override
    public int ringSetupFlags() {
        return Liburing.IORING_SETUP_SQE128 | Liburing.IORING_SETUP_CQE32;
    }

    /** A deallocate's DSM range. */
    @Override
    public int commandScratchBytes() {
        return (int) DsmRange.SIZE;
    }

    /** Write zeroes beyond 64Ki blocks, or a discard beyond one DSM range, takes more than one command. */
    @Override
    public boolean offloads(IoRequest r) {
        return needsOffload(r, lbaShift);
    }

    static boolean needsOffload(IoRequest r, int lbaShift) {
        long blocks = r.length >>> lbaShift;
        return (r.op == IoRequest.WRITE_ZEROES && blocks > MAX_BLOCKS_PER_COMMAND)
                || (r.op == IoRequest.DISCARD && blocks > 0xFFFF_FFFFL);
    }

    /** One NVMe command (Read, Write, Flush, Write Zeroes, DSM) in a 128-byte SQE. */
    @Override
    public boolean prep(SubmissionQueue sq, IoRequest r, int fileIndex, boolean fixed, long scratch, long userData) {
        boolean useFixed = fixed && fixedBuffers;
        long at = sq.prepUringCmd(fileIndex, (int) NvmeIoctl.NVME_URING_CMD_IO,
                useFixed ? NvmeIoctl.IORING_URING_CMD_FIXED : 0, 0, userData);
        if (at < 0) {
            return false;
        }
        MemorySegment s = sq.sqes();
        long cmd = at + IoUringSqe.CMD;
        long slba = r.offset >>> lbaShift;
        long blocks = r.length >>> lbaShift;
        switch (r.op) {
            case IoRequest.READ -> encodeReadWrite(s, cmd, IoOpcode.READ, nsid, slba, blocks, r.address, (int) r.length,
                    false);
            case IoRequest.WRITE -> encodeReadWrite(s, cmd, IoOpcode.WRITE, nsid, slba, blocks, r.address,
                    (int) r.length, r.fua);
            case IoRequest.FLUSH -> encodeFlush(s, cmd, nsid);
            case IoRequest.WRITE_ZEROES -> encodeWriteZeroes(s, cmd, nsid, slba, blocks);
            default -> encodeDeallocate(s, cmd, nsid, slba, blocks, scratch);
        }
        return true;
    }

    /** The CQE's res is the NVMe status, not a byte count. */
    @Override
    public int result(IoRequest r, int res) {
        return translate(r, res);
    }

    /** The CQE of an NVMe command: 0 success, > 0 an NVMe status (kept, and -EIO), < 0 -errno from the driver. */
    static int translate(IoRequest r, int res) {
        if (res == 0) {
            return r.op <= IoRequest.WRITE ? (int) r.length : 0;
        }
        if (res > 0) {
            r.nvmeStatus = res;
            return -Errno.EIO;
        }
        return res;
    }

    // ---------------------------------------------------------------- BlockDevice

    @Override public String kind() { return KIND; }
    @Override public int logicalBlockSize() { return 1 << lbaShift; }
    @Override public int physicalBlockSize() { return physical; }
    @Override public int optimalIoSize() { return optimal; }
    @Override public boolean supportsDiscard() { return dsm; }
    @Override public boolean supportsWriteZeroes() { return writeZeroes; }
    @Override public boolean volatileWriteCache() { return writeCache; }
    @Override public boolean supportsFua() { return true; } // FUA is a bit of every NVMe Write

    public int nsid() { return nsid; }
    /**
     * The largest read or write in one command: MDTS, at most Linux's 4 MiB and the kernel's queue limits; the
     * kernel refuses a larger one with EINVAL, so the reactor splits it ({@link IoSplit}).
     */
    @Override public long maxTransfer() { return maxTransfer; }
    public boolean fixedBuffers() { return fixedBuffers; }
    /** Why fixed buffers are not used, or null. */
    public String fixedBuffersCause() { return fixedBuffersCause; }

    /** Blocking DSM deallocate through NVME_IOCTL_IO_CMD, in commands of at most 2^32-1 blocks. */
    @Override
    public void discard(long offset, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(DsmRange.SIZE, 16);
            for (long slba = offset >>> lbaShift, left = length >>> lbaShift; left > 0; ) {
                long n = Math.min(left, 0xFFFF_FFFFL);
                range.set(JAVA_INT, DsmRange.OFFSET_CONTEXT_ATTRIBUTES, 0);
                range.set(JAVA_INT, DsmRange.OFFSET_NLB, (int) n);
                range.set(JAVA_LONG, DsmRange.OFFSET_SLBA, slba);
                ioCommand(arena, IoOpcode.DSM, slba, range, 0, DSM_ATTRIBUTE_DEALLOCATE, 0, "Dataset Management");
                slba += n;
                left -= n;
            }
        }
    }

    /** Blocking Write Zeroes through NVME_IOCTL_IO_CMD, 64Ki blocks per command. */
    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            for (long slba = offset >>> lbaShift, left = length >>> lbaShift; left > 0; ) {
                long n = Math.min(left, MAX_BLOCKS_PER_COMMAND);
                ioCommand(arena, IoOpcode.WRITE_ZEROES, slba, null, (int) slba, (int) (slba >>> 32), (int) (n - 1),
                        "Write Zeroes");
                slba += n;
                left -= n;
            }
        }
    }

    private void ioCommand(Arena arena, int opcode, long slba, MemorySegment data, int cdw10, int cdw11, int cdw12,
                           String what) throws IOException {
        MemorySegment cmd = arena.allocate(NvmePassthruCmd.LAYOUT);
        NvmePassthruCmd.opcode(cmd, (byte) opcode);
        NvmePassthruCmd.nsid(cmd, nsid);
        if (data != null) {
            NvmePassthruCmd.addr(cmd, data.address());
            NvmePassthruCmd.data_len(cmd, (int) data.byteSize());
        }
        NvmePassthruCmd.cdw10(cmd, cdw10);
        NvmePassthruCmd.cdw11(cmd, cdw11);
        NvmePassthruCmd.cdw12(cmd, cdw12);
        int rc = Libc.ioctl(fd, NvmeIoctl.NVME_IOCTL_IO_CMD, cmd, "ioctl(NVME_IOCTL_IO_CMD, " + what + ")", name);
        if (rc > 0) {
            throw new IOException(name + ": " + what + " at LBA " + slba + " failed: " + statusText(rc));
        }
    }

    @Override
    public String toString() {
        return KIND + " " + name + " (nsid " + nsid + ", " + size + " bytes, " + logicalBlockSize() + "-byte blocks, "
                + (fixedBuffers ? "fixed buffers" : "plain buffers: " + fixedBuffersCause) + (readOnly ? ", read-only" : "")
                + ")";
    }

    /** Takes NVMe generic char devices ({@code /dev/ngXnY}, any char device) and "nvme-passthru:PATH". */
    public static final class Provider implements BlockDeviceProvider {
        @Override public String kind() { return KIND; }

        @Override
        public boolean accepts(String name) {
            if (name.startsWith(PREFIX)) return true;
            if (name.matches("^[a-z]+:.*")) return false;
            try {
                return Files.getAttribute(Path.of(name), "unix:mode") instanceof Integer m
                        && (m & Libc.S_IFMT) == Libc.S_IFCHR;
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return false;
            }
        }

        @Override
        public BlockDevice open(String name, OpenOptions options) throws IOException {
            return NvmePassthruDevice.open(name, options);
        }
    }
}
