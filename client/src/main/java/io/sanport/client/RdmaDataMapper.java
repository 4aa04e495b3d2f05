package io.sanport.client;

import io.sanport.bindings.ErrnoException;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How a command's data travels on an {@link NvmeRdmaQueue} (Linux {@code nvme_rdma_map_data} /
 * {@code nvme_rdma_unmap_data}); it fills the SGL descriptor of the capsule in the {@link RdmaCapsulePool}:
 * <ul>
 * <li>writes up to the target's in-capsule limit (IOCCSZ x 16 - 64; I/O queues only, as Linux): copied behind the
 *     SQE, SGL Data Block / Offset (0x01);</li>
 * <li>other transfers up to 8 KiB: bounced through the slot's data area, keyed SGL (0x40) with the pool's rkey —
 *     no registration, no MR cache churn for the admin queue's 1-4 KiB Connect/Identify/log buffers;</li>
 * <li>larger transfers: zero-copy from the caller's buffer, keyed SGL (0x40) with the rkey of a long-lived MR from
 *     the queue's {@link MemoryRegionCache} (registered on first use, reused by range, released as the command
 *     completes).</li>
 * </ul>
 * No FRWR, hence never subtype 0xF. No allocation per command: a cache hit is a scan.
 */
final class RdmaDataMapper {
    private final RdmaCapsulePool capsules;
    private final MemorySegment pool;
    /** Per slot: the MR its data uses while in flight, or null. */
    private final MemoryRegionCache.Region[] regions;
    /** Per slot: its data went through the slot's area of the pool. */
    private final boolean[] bounced;
    private final AtomicLong payloadBytesCopied = new AtomicLong();
    private volatile long inCapsuleMax;
    private MemoryRegionCache mrCache;

    RdmaDataMapper(RdmaCapsulePool capsules, int size) {
        this.capsules = capsules;
        this.pool = capsules.pool;
        regions = new MemoryRegionCache.Region[size];
        bounced = new boolean[size];
    }

    /** Starts the MR cache on the queue's PD (callers' buffers are registered there). */
    void open(MemorySegment pd) {
        mrCache = new MemoryRegionCache(pd);
    }

    /** Largest write carried in the capsule; never more than the slot's data area. */
    void inCapsuleMax(long bytes) {
        inCapsuleMax = bytes;
    }

    /** Payload bytes copied between callers' buffers and the pool (in-capsule writes, bounces). */
    long payloadBytesCopied() {
        return payloadBytesCopied.get();
    }

    /**
     * Describes the slot's data in its capsule (whose SQE is already in the pool), copying in-capsule and bounced
     * write data.
     *
     * @return the bytes the SEND carries: the SQE and any in-capsule data
     * @throws NvmeTransportException the data cannot be described (too long, registration failed): the command fails
     */
    int map(CommandSlot slot) throws NvmeTransportException {
        int i = slot.index;
        long capsule = RdmaCapsulePool.capsule(i);
        long dptr = capsule + SubmissionQueueEntry.OFFSET_DPTR;
        long length = slot.dataLength;
        int sendLength = (int) SubmissionQueueEntry.SIZE;
        bounced[i] = false;
        regions[i] = null;
        if (length == 0) {
            SglDescriptor.setKeyed(pool, dptr, 0, 0, 0, SglDescriptor.ID_KEYED);
        } else if (length > SglDescriptor.KEYED_MAX_LENGTH) {
            throw new NvmeTransportException(slot.name + ": " + length
                    + " bytes exceed a keyed SGL descriptor's 24-bit length");
        } else if (slot.hostToController && length <= inCapsuleMax) {
            MemorySegment.copy(slot.data, 0, pool, capsule + SubmissionQueueEntry.SIZE, length);
            payloadBytesCopied.addAndGet(length);
            SglDescriptor.set(pool, dptr, 0, length, SglDescriptor.ID_DATA_OFFSET);
            slot.inCapsule = true;
            sendLength += (int) length;
        } else if (length <= RdmaCapsulePool.SMALL_DATA) {
            long area = capsule + SubmissionQueueEntry.SIZE;
            if (slot.hostToController) {
                MemorySegment.copy(slot.data, 0, pool, area, length);
                payloadBytesCopied.addAndGet(length);
            }
            bounced[i] = true;
            SglDescriptor.setKeyed(pool, dptr, pool.address() + area, (int) length, capsules.rkey(), SglDescriptor.ID_KEYED);
        } else {
            MemoryRegionCache.Region r;
            try {
                r = mrCache.acquire(slot.data);
            } catch (ErrnoException e) {
                throw new NvmeTransportException(slot.name + ": registering " + length + " bytes at 0x"
                        + Long.toHexString(slot.dataAddress) + ": " + e.getMessage(), e);
            }
            regions[i] = r;
            SglDescriptor.setKeyed(pool, dptr, slot.dataAddress, (int) length, r.rkey, SglDescriptor.ID_KEYED);
        }
        return sendLength;
    }

    /** On the response (completion thread): a successful bounced read's data goes to the caller's buffer. */
    void unmap(CommandSlot slot, int statusWord) {
        int i = slot.index;
        if (bounced[i] && !slot.hostToController && Status.isSuccess(statusWord)) {
            MemorySegment.copy(pool, RdmaCapsulePool.capsule(i) + SubmissionQueueEntry.SIZE, slot.data, 0, slot.dataLength);
            payloadBytesCopied.addAndGet(slot.dataLength);
        }
    }

    /** As the command completes: the slot's long-lived MR (a larger transfer's) goes back to the cache. */
    void release(CommandSlot slot) {
        MemoryRegionCache.Region r = regions[slot.index];
        if (r != null) {
            regions[slot.index] = null;
            mrCache.release(r);
        }
    }

    /** Deregisters the cached MRs; the queue is quiesced. */
    void close() {
        if (mrCache != null) {
            mrCache.close();
        }
    }
}
