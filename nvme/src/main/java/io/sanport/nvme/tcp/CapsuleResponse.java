package io.sanport.nvme.tcp;

import io.sanport.nvme.CompletionQueueEntry;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** NVMe/TCP Response Capsule PDU, NVMe/TCP 1.0 §3.6.2.5 (24 B); SPDK {@code struct spdk_nvme_tcp_rsp}. */
public final class CapsuleResponse {
    public static final int HLEN = 24;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            PduHeader.LAYOUT.withName("common"),
            CompletionQueueEntry.LAYOUT.withName("rccqe")
    ).withName("spdk_nvme_tcp_rsp");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_COMMON = LAYOUT.byteOffset(groupElement("common"));
    public static final long OFFSET_CQE = LAYOUT.byteOffset(groupElement("rccqe"));

    private CapsuleResponse() {}
}
