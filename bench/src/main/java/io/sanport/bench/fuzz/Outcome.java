package io.sanport.bench.fuzz;

import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.Status;
import io.sanport.nvme.tcp.CapsuleResponse;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.TermReq;
import java.lang.foreign.MemorySegment;

/** What the target did with one fuzz connection. */
final class Outcome {
    int termReqs;
    int lastFes = -1;
    int errorCompletions;
    int successCompletions;
    int otherPdus;
    boolean reset;

    void saw(MemorySegment pdu) {
        switch (PduHeader.type(pdu)) {
            case PduHeader.TYPE_C2H_TERM_REQ -> {
                termReqs++;
                if (pdu.byteSize() >= TermReq.HLEN) lastFes = TermReq.fes(pdu);
            }
            case PduHeader.TYPE_CAPSULE_RESP -> {
                if (pdu.byteSize() < CapsuleResponse.OFFSET_CQE + 16) {
                    otherPdus++;
                    return;
                }
                int status = CompletionQueueEntry.status(pdu.asSlice(CapsuleResponse.OFFSET_CQE, 16));
                if (Status.isSuccess(status)) successCompletions++;
                else errorCompletions++;
            }
            default -> otherPdus++;
        }
    }

    /** The short name the fuzzer's tally uses: how the connection ended. */
    String kind() {
        if (termReqs > 0) return "C2HTermReq";
        if (errorCompletions > 0) return "error completion, then close";
        if (reset) return "reset";
        if (successCompletions > 0) return "accepted (harmless mutation)";
        return "closed";
    }
}
