package io.sanport.nvme.tcp;

import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** NVMe/TCP Command Capsule PDU header, NVMe/TCP 1.0 §3.6.2.4 (72 B); SPDK {@code struct spdk_nvme_tcp_cmd}. */
public final class CapsuleCommand {
    public static final int HLEN = 72;
    /** Linux puts up to this much in-capsule data on admin and fabrics commands on any queue. */
    public static final int ADMIN_IN_CAPSULE_MAX = 8192;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            PduHeader.LAYOUT.withName("common"),
            SubmissionQueueEntry.LAYOUT.withName("ccsqe")
    ).withName("spdk_nvme_tcp_cmd");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_COMMON = LAYOUT.byteOffset(groupElement("common"));
    public static final long OFFSET_SQE = LAYOUT.byteOffset(groupElement("ccsqe"));

    private CapsuleCommand() {}
}
