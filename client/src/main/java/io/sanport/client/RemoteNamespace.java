package io.sanport.client;

import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SubmissionQueueEntry;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;

/**
 * A namespace of a {@link RemoteController}, addressed in logical blocks. Buffers are native
 * {@code MemorySegment}s whose size is a multiple of the block size; a buffer must stay alive until its command
 * completes. Three forms per operation: callback (no allocation), {@code CompletableFuture}, blocking.
 */
public final class RemoteNamespace {
    private final RemoteController controller;
    private final IoQueues io;
    private final int nsid;
    private final long blocks;
    private final long capacityBlocks;
    private final int blockShift;
    private final int metadataSize;
    private final String nguid;

    RemoteNamespace(RemoteController controller, int nsid, MemorySegment identify) {
        this.controller = controller;
        this.io = controller.io();
        this.nsid = nsid;
        this.blocks = IdentifyNamespace.nsze(identify);
        this.capacityBlocks = IdentifyNamespace.ncap(identify);
        int format = IdentifyNamespace.formatIndex(IdentifyNamespace.flbas(identify));
        this.blockShift = IdentifyNamespace.lbafLbads(identify, format);
        this.metadataSize = IdentifyNamespace.lbafMs(identify, format);
        this.nguid = HexFormat.of().formatHex(IdentifyNamespace.nguid(identify).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        if (blockShift < 9 || blockShift > 16) {
            throw new IllegalStateException("namespace " + nsid + ": LBA data size 2^" + blockShift + " unsupported");
        }
        if (metadataSize != 0) {
            throw new IllegalStateException("namespace " + nsid + ": " + metadataSize + " metadata bytes per block unsupported");
        }
    }

    public int nsid() { return nsid; }
    /** NSZE: size in blocks. */
    public long blocks() { return blocks; }
    public long capacityBlocks() { return capacityBlocks; }
    public int blockSize() { return 1 << blockShift; }
    public long sizeBytes() { return blocks << blockShift; }
    public String nguid() { return nguid; }
    public RemoteController controller() { return controller; }

    /** Largest buffer one read or write may move (MDTS, and 65536 blocks). */
    public long maxTransferBytes() {
        return Math.min(controller.maxTransferBytes(), (long) SubmissionQueueEntry.MAX_BLOCKS << blockShift);
    }

    private int nlb(long lba, long bytes) {
        long n = bytes >>> blockShift;
        if (bytes == 0 || (n << blockShift) != bytes) {
            throw new IllegalArgumentException(bytes + " bytes is not a non-zero multiple of the " + blockSize() + "-byte block");
        }
        return nlbBlocks(lba, n);
    }

    private int nlbBlocks(long lba, long n) {
        if (n < 1 || n > SubmissionQueueEntry.MAX_BLOCKS || (n << blockShift) > controller.maxTransferBytes()) {
            throw new IllegalArgumentException(n + " blocks exceed the transfer limit of " + maxTransferBytes() + " bytes");
        }
        if (lba < 0 || lba + n > blocks) {
            throw new IllegalArgumentException("blocks " + lba + "+" + n + " beyond the namespace's " + blocks);
        }
        return (int) (n - 1);
    }

    // ---- callback forms: no allocation ----

    public void read(long lba, MemorySegment buffer, IoCallback callback) throws IOException {
        io.submit("Read", IoOpcode.READ, nsid, lba, nlb(lba, buffer.byteSize()), buffer, false, callback);
    }

    public void write(long lba, MemorySegment buffer, IoCallback callback) throws IOException {
        io.submit("Write", IoOpcode.WRITE, nsid, lba, nlb(lba, buffer.byteSize()), buffer, true, callback);
    }

    // ---- CompletableFuture forms ----

    public CompletableFuture<Void> readAsync(long lba, MemorySegment buffer) throws IOException {
        CompletableFuture<Void> f = new CompletableFuture<>();
        read(lba, buffer, RemoteController.future("Read", f));
        return f;
    }

    public CompletableFuture<Void> writeAsync(long lba, MemorySegment buffer) throws IOException {
        CompletableFuture<Void> f = new CompletableFuture<>();
        write(lba, buffer, RemoteController.future("Write", f));
        return f;
    }

    // ---- blocking forms ----

    public void read(long lba, MemorySegment buffer) throws IOException {
        io.execute("Read", IoOpcode.READ, nsid, lba, nlb(lba, buffer.byteSize()), buffer, false);
    }

    /** @param fua force unit access: the data is on stable media when this returns */
    public void write(long lba, MemorySegment buffer, boolean fua) throws IOException {
        int cdw12 = nlb(lba, buffer.byteSize()) | (fua ? SubmissionQueueEntry.CDW12_FUA : 0);
        io.execute("Write", IoOpcode.WRITE, nsid, lba, cdw12, buffer, true);
    }

    public void write(long lba, MemorySegment buffer) throws IOException {
        write(lba, buffer, false);
    }

    /** Flush the volatile write cache (a no-op success when there is none). */
    public void flush() throws IOException {
        io.execute("Flush", IoOpcode.FLUSH, nsid, 0, 0, null, false);
    }

    /** Write Zeroes over {@code count} blocks (at most 65536 per command; larger ranges are split). */
    public void writeZeroes(long lba, long count) throws IOException {
        while (count > 0) {
            long n = Math.min(count, SubmissionQueueEntry.MAX_BLOCKS);
            if (lba < 0 || lba + n > blocks) {
                throw new IllegalArgumentException("blocks " + lba + "+" + n + " beyond the namespace's " + blocks);
            }
            io.execute("Write Zeroes", IoOpcode.WRITE_ZEROES, nsid, lba, (int) (n - 1), null, false);
            lba += n;
            count -= n;
        }
    }

    /** Deallocate (TRIM) {@code count} blocks at {@code lba} with Dataset Management. */
    public void deallocate(long lba, long count) throws IOException {
        if (lba < 0 || count < 1 || lba + count > blocks || count > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("blocks " + lba + "+" + count + " invalid for the namespace's " + blocks);
        }
        io.deallocate(nsid, new long[] {lba, count});
    }

    /** A block-aligned buffer for this namespace from {@code arena}. */
    public MemorySegment allocate(Arena arena, long bytes) {
        return arena.allocate(bytes, Math.max(4096, blockSize()));
    }

    @Override
    public String toString() {
        return "namespace " + nsid + " (" + blocks + " x " + blockSize() + " B) of " + controller;
    }
}
