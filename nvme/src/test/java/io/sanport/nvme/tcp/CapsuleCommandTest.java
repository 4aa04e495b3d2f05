package io.sanport.nvme.tcp;

import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §5.4 (CapsuleCmd: SQE at 8-71). */
class CapsuleCommandTest {
    @Test
    void capsuleCommand() {
        assertEquals(72, CapsuleCommand.SIZE);
        assertEquals(72, CapsuleCommand.HLEN);
        assertEquals(0, CapsuleCommand.OFFSET_COMMON);
        assertEquals(8, CapsuleCommand.OFFSET_SQE);
        assertEquals(8192, CapsuleCommand.ADMIN_IN_CAPSULE_MAX);

        MemorySegment pdu = misaligned(CapsuleCommand.SIZE);
        MemorySegment sqe = pdu.asSlice(CapsuleCommand.OFFSET_SQE, SubmissionQueueEntry.SIZE);
        SubmissionQueueEntry.cid(sqe, 0x1234);
        assertEquals(0x34, pdu.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 10));
    }
}
