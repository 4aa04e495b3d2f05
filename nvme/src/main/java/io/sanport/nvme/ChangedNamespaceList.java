package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.Objects;

import static io.sanport.nvme.Wire.U32;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Changed Namespace List log (LID 0x04), NVMe Base 2.0 §5.16.1.5 (4096 B); libnvme {@code struct nvme_ns_list}. */
public final class ChangedNamespaceList {

    public static final int MAX_ENTRIES = 1024;
    /** A single FFFFFFFFh entry: more than 1024 namespaces changed, rescan all. */
    public static final int OVERFLOW = 0xFFFFFFFF;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(MAX_ENTRIES, U32).withName("ns")
    ).withName("nvme_ns_list");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_NS = LAYOUT.byteOffset(groupElement("ns"));

    private ChangedNamespaceList() {}

    /** Entry {@code i}; the list ends at the first 0. */
    public static int nsid(MemorySegment s, int i) {
        return s.get(U32, OFFSET_NS + 4L * Objects.checkIndex(i, MAX_ENTRIES));
    }

    public static void nsid(MemorySegment s, int i, int v) {
        s.set(U32, OFFSET_NS + 4L * Objects.checkIndex(i, MAX_ENTRIES), v);
    }
}
