package io.sanport.transport.rdma;

import io.sanport.bindings.verbs.IbvSendWr;
import io.sanport.bindings.verbs.IbvSge;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.hostdriver.Request;
import io.sanport.nvme.CompletionQueueEntry;
import java.lang.foreign.MemorySegment;

/**
 * One NVMe/RDMA command of a queue (nvmet's {@code struct nvmet_rdma_rsp}): the core's {@link Request} it carries
 * from the capsule to the completion's SEND, and everything RDMA keeps for it: the receive buffer holding its
 * in-capsule data, its SGL1 as mapped (keyed address, key, invalidate), its two send-queue work requests (the
 * RDMA READ or WRITE of the data, the SEND of the response) with their SGEs, the registered 16-byte response
 * buffer, and its place in the queue's wait for credits. One per request slot, made when the queue is; reused
 * for every command of that slot, so nothing is allocated per I/O. Reactor thread only.
 */
final class RdmaCommand {
    /** Native bytes per command: data WR, SEND WR, their SGEs. */
    static final long WRS_SIZE = 2 * IbvSendWr.SIZE + 2 * IbvSge.SIZE;
    static final int RESPONSE_SIZE = (int) CompletionQueueEntry.SIZE;

    final int tag;
    final RdmaSgl sgl = new RdmaSgl();
    private final MemorySegment dataWr;
    private final MemorySegment sendWr;
    private final MemorySegment dataSge;
    private final MemorySegment response;

    /** The core's slot this command carries, set when its capsule arrives. */
    Request request;
    /** The receive buffer still holding this command's capsule (its in-capsule data), or -1. */
    int recvIndex = -1;
    /** Bytes the capsule carried after the SQE. */
    int inCapsuleBytes;
    /** The next command waiting for send-queue or RDMA READ credits ({@link RdmaSendQueue}). */
    RdmaCommand nextWaiting;
    /** Send-queue credits the posted response holds until its SEND completes (its WRITE's too). */
    int sqCredits;
    /** The first WR of what was built last (the READ, or the response's WRITE or SEND). */
    private MemorySegment firstWr;
    private boolean lastWasResponse;

    /** {@code wrs}: {@link #WRS_SIZE} bytes; {@code response}: 16 bytes of a region registered with {@code responseLkey}. */
    RdmaCommand(int tag, MemorySegment wrs, MemorySegment response, int responseLkey, boolean inlineResponse) {
        this.tag = tag;
        this.dataWr = wrs.asSlice(0, IbvSendWr.SIZE);
        this.sendWr = wrs.asSlice(IbvSendWr.SIZE, IbvSendWr.SIZE);
        this.dataSge = wrs.asSlice(2 * IbvSendWr.SIZE, IbvSge.SIZE);
        MemorySegment responseSge = wrs.asSlice(2 * IbvSendWr.SIZE + IbvSge.SIZE, IbvSge.SIZE);
        this.response = response;
        // what never changes: the response SGE and the SEND's list
        IbvSge.set(responseSge, 0, response.address(), RESPONSE_SIZE, responseLkey);
        IbvSendWr.sg_list(sendWr, 0, responseSge, 1);
        IbvSendWr.send_flags(sendWr, 0,
                Ibverbs.IBV_SEND_SIGNALED | (inlineResponse ? Ibverbs.IBV_SEND_INLINE : 0));
        IbvSendWr.sg_list(dataWr, 0, dataSge, 1);
    }

    /** A capsule for {@code r} arrived in receive buffer {@code index} with {@code inCapsuleBytes} after its SQE. */
    void bind(Request r, int index, int inCapsuleBytes) {
        this.request = r;
        this.recvIndex = index;
        this.inCapsuleBytes = inCapsuleBytes;
        this.nextWaiting = null;
        sgl.clear(); // a command refused before its SGL is mapped must not answer with an invalidate
    }

    /** The RDMA READ of the host's data into the request's pool buffer (lkey {@code poolLkey}). */
    MemorySegment readWr(long wrId, int poolLkey) {
        IbvSge.set(dataSge, 0, request.buffer().address(), (int) request.dataLength(), poolLkey);
        IbvSendWr.wr_id(dataWr, 0, wrId);
        IbvSendWr.next(dataWr, 0, MemorySegment.NULL);
        IbvSendWr.opcode(dataWr, 0, Ibverbs.IBV_WR_RDMA_READ);
        IbvSendWr.send_flags(dataWr, 0, Ibverbs.IBV_SEND_SIGNALED); // its completion hands the data to the core
        IbvSendWr.rdma(dataWr, 0, sgl.remoteAddress, sgl.key);
        firstWr = dataWr;
        lastWasResponse = false;
        return dataWr;
    }

    /**
     * The response SEND with the CQE the core fills ({@link Request#fillCompletion}), SEND_WITH_INVALIDATE when
     * the host's descriptor asked for it; chained behind the RDMA WRITE of the data when there is data to send
     * ({@code writeWrId}), so that RC ordering shows the host the data before the completion. The WRITE is not
     * signaled: the SEND's completion covers it (a failed one still completes, in error). Returns the first WR.
     */
    MemorySegment responseWrs(long sendWrId, long writeWrId, int poolLkey) {
        request.fillCompletion(response);
        lastWasResponse = true;
        IbvSendWr.wr_id(sendWr, 0, sendWrId);
        IbvSendWr.next(sendWr, 0, MemorySegment.NULL);
        if (sgl.invalidate) {
            // only for a 0x4F descriptor, with its own key: anything else makes the L6.1 host reset (nvmeof.md §6.5)
            IbvSendWr.opcode(sendWr, 0, Ibverbs.IBV_WR_SEND_WITH_INV);
            IbvSendWr.invalidate_rkey(sendWr, 0, sgl.key);
        } else {
            IbvSendWr.opcode(sendWr, 0, Ibverbs.IBV_WR_SEND);
            IbvSendWr.invalidate_rkey(sendWr, 0, 0);
        }
        if (!request.sendsData()) {
            firstWr = sendWr;
            return sendWr;
        }
        IbvSge.set(dataSge, 0, request.buffer().address(), (int) request.dataLength(), poolLkey);
        IbvSendWr.wr_id(dataWr, 0, writeWrId);
        IbvSendWr.next(dataWr, 0, sendWr);
        IbvSendWr.opcode(dataWr, 0, Ibverbs.IBV_WR_RDMA_WRITE);
        IbvSendWr.send_flags(dataWr, 0, 0);
        IbvSendWr.rdma(dataWr, 0, sgl.remoteAddress, sgl.key);
        firstWr = dataWr;
        return dataWr;
    }

    /** The response SEND: the last WR of a response. */
    MemorySegment sendWr() {
        return sendWr;
    }

    /** The first WR of what was built last. */
    MemorySegment firstWr() {
        return firstWr;
    }

    /** Whether {@code wr} (what {@code ibv_post_send} reports as the bad WR) is one of what was built last. */
    boolean holds(long wr) {
        return wr == firstWr.address() || (lastWasResponse && wr == sendWr.address());
    }

    /** Send-queue WRs the response takes: the SEND, and the RDMA WRITE before it when data goes to the host. */
    int responseWrCount() {
        return request.sendsData() ? 2 : 1;
    }
}
