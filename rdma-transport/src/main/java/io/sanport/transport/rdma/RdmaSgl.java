package io.sanport.transport.rdma;

import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.MemorySegment;

/**
 * SGL1 of a command capsule received over RDMA, checked as nvmet's {@code nvmet_rdma_map_sgl} does (Linux
 * {@code drivers/nvme/target/rdma.c}): a Data Block with the Offset subtype (in-capsule data) or a Keyed Data
 * Block with the Address or Invalidate Key subtype; anything else is refused with the status nvmet uses.
 * One instance per {@link RdmaCommand}, reused: {@link #map} fills the fields, nothing is allocated.
 */
final class RdmaSgl {
    private static final long AT = SubmissionQueueEntry.OFFSET_DPTR;

    // the outcome of the last map()
    long length;          // bytes the command moves
    int inCapsuleLength;  // of which in the capsule (== length) or 0
    int inCapsuleOffset;  // where they start after the SQE
    long remoteAddress;   // keyed: the host's address
    int key;              // keyed: the host's rkey
    boolean invalidate;   // keyed, subtype 0xF, length > 0: answer with SEND_WITH_INVALIDATE(key)

    /** Forgets the last map(): no data, nothing to invalidate. */
    void clear() {
        length = 0;
        inCapsuleLength = 0;
        inCapsuleOffset = 0;
        remoteAddress = 0;
        key = 0;
        invalidate = false;
    }

    /**
     * Checks SGL1 of {@code sqe}; {@code received} is how many bytes followed the SQE in the capsule,
     * {@code maxInCapsule} what IOCCSZ allows, {@code maxTransfer} the largest buffer a command may use.
     * Every range check is written as {@code len > max - off} with {@code off <= max} checked first.
     * Returns {@link Status#SUCCESS} or the status code (without DNR; the core adds it).
     */
    int map(MemorySegment sqe, int received, int maxInCapsule, long maxTransfer) {
        clear();
        int id = SglDescriptor.identifier(sqe, AT);
        switch (SglDescriptor.type(id)) {
            case SglDescriptor.TYPE_DATA_BLOCK -> {
                if (SglDescriptor.subtype(id) != SglDescriptor.SUBTYPE_OFFSET) {
                    return Status.INVALID_FIELD;
                }
                long off = SglDescriptor.address(sqe, AT);
                long len = SglDescriptor.length(sqe, AT);
                int status = SglDescriptor.checkInCapsule(off, len, received, maxInCapsule);
                if (status != Status.SUCCESS) {
                    return status;
                }
                length = len;
                inCapsuleLength = (int) len;
                inCapsuleOffset = (int) off;
                return Status.SUCCESS;
            }
            case SglDescriptor.TYPE_KEYED_DATA_BLOCK -> {
                int subtype = SglDescriptor.subtype(id);
                if (subtype != SglDescriptor.SUBTYPE_ADDRESS && subtype != SglDescriptor.SUBTYPE_INVALIDATE_KEY) {
                    return Status.INVALID_FIELD;
                }
                int len = SglDescriptor.keyedLength(sqe, AT);
                if (len == 0) {
                    return Status.SUCCESS; // no data: nothing to invalidate either (nvmet_rdma_map_sgl_keyed)
                }
                if (len > maxTransfer) {
                    return Status.SGL_INVALID_DATA;
                }
                length = len;
                remoteAddress = SglDescriptor.address(sqe, AT);
                key = SglDescriptor.key(sqe, AT);
                invalidate = subtype == SglDescriptor.SUBTYPE_INVALIDATE_KEY;
                return Status.SUCCESS;
            }
            default -> {
                return Status.SGL_INVALID_TYPE;
            }
        }
    }
}
