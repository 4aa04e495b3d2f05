package io.sanport.nvme.tcp;

import io.sanport.nvme.CompletionQueueEntry;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.4 (CapsuleResp: CQE at 8-23). */
class CapsuleResponseTest {
    @Test
    void capsuleResponse() {
        assertEquals(24, CapsuleResponse.SIZE);
        assertEquals(24, CapsuleResponse.HLEN);
        assertEquals(8, CapsuleResponse.OFFSET_CQE);

        MemorySegment pdu = misaligned(CapsuleResponse.SIZE);
        MemorySegment cqe = pdu.asSlice(CapsuleResponse.OFFSET_CQE, CompletionQueueEntry.SIZE);
        CompletionQueueEntry.status(cqe, 0x8004);
        assertEquals((byte) 0x80, pdu.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 23));
    }
}
