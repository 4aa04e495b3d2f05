package io.sanport.bindings.nvme;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct nvme_uring_cmd} ({@code <linux/nvme_ioctl.h>}, Linux 5.19+): the 72-byte NVMe command an
 * IORING_OP_URING_CMD carries in the command area of a 128-byte SQE (from {@code sqe->cmd}). The setters take
 * the segment and the byte offset of the struct in it, so it is written straight into the mapped SQ ring.
 */
public final class NvmeUringCmd {
    private NvmeUringCmd() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("opcode"),
            JAVA_BYTE.withName("flags"),
            JAVA_SHORT.withName("rsvd1"),
            JAVA_INT.withName("nsid"),
            JAVA_INT.withName("cdw2"),
            JAVA_INT.withName("cdw3"),
            JAVA_LONG.withName("metadata"),
            JAVA_LONG.withName("addr"),
            JAVA_INT.withName("metadata_len"),
            JAVA_INT.withName("data_len"),
            JAVA_INT.withName("cdw10"),
            JAVA_INT.withName("cdw11"),
            JAVA_INT.withName("cdw12"),
            JAVA_INT.withName("cdw13"),
            JAVA_INT.withName("cdw14"),
            JAVA_INT.withName("cdw15"),
            JAVA_INT.withName("timeout_ms"),
            JAVA_INT.withName("rsvd2")
    ).withName("nvme_uring_cmd");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OPCODE = Native.requireOffset(LAYOUT, "opcode");
    public static final long FLAGS = Native.requireOffset(LAYOUT, "flags");
    public static final long RSVD1 = Native.requireOffset(LAYOUT, "rsvd1");
    public static final long NSID = Native.requireOffset(LAYOUT, "nsid");
    public static final long CDW2 = Native.requireOffset(LAYOUT, "cdw2");
    public static final long CDW3 = Native.requireOffset(LAYOUT, "cdw3");
    public static final long METADATA = Native.requireOffset(LAYOUT, "metadata");
    public static final long ADDR = Native.requireOffset(LAYOUT, "addr");
    public static final long METADATA_LEN = Native.requireOffset(LAYOUT, "metadata_len");
    public static final long DATA_LEN = Native.requireOffset(LAYOUT, "data_len");
    public static final long CDW10 = Native.requireOffset(LAYOUT, "cdw10");
    public static final long CDW11 = Native.requireOffset(LAYOUT, "cdw11");
    public static final long CDW12 = Native.requireOffset(LAYOUT, "cdw12");
    public static final long CDW13 = Native.requireOffset(LAYOUT, "cdw13");
    public static final long CDW14 = Native.requireOffset(LAYOUT, "cdw14");
    public static final long CDW15 = Native.requireOffset(LAYOUT, "cdw15");
    public static final long TIMEOUT_MS = Native.requireOffset(LAYOUT, "timeout_ms");
    public static final long RSVD2 = Native.requireOffset(LAYOUT, "rsvd2");

    public static void opcode(MemorySegment s, long at, byte v) { s.set(JAVA_BYTE, at + OPCODE, v); }
    public static void flags(MemorySegment s, long at, byte v) { s.set(JAVA_BYTE, at + FLAGS, v); }
    public static void nsid(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + NSID, v); }
    public static void addr(MemorySegment s, long at, long v) { s.set(JAVA_LONG, at + ADDR, v); }
    public static void data_len(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + DATA_LEN, v); }
    public static void cdw10(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + CDW10, v); }
    public static void cdw11(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + CDW11, v); }
    public static void cdw12(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + CDW12, v); }
    public static void cdw13(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + CDW13, v); }

    public static byte opcode(MemorySegment s, long at) { return s.get(JAVA_BYTE, at + OPCODE); }
    public static int nsid(MemorySegment s, long at) { return s.get(JAVA_INT, at + NSID); }
    public static long addr(MemorySegment s, long at) { return s.get(JAVA_LONG, at + ADDR); }
    public static int data_len(MemorySegment s, long at) { return s.get(JAVA_INT, at + DATA_LEN); }
    public static int cdw10(MemorySegment s, long at) { return s.get(JAVA_INT, at + CDW10); }
    public static int cdw11(MemorySegment s, long at) { return s.get(JAVA_INT, at + CDW11); }
    public static int cdw12(MemorySegment s, long at) { return s.get(JAVA_INT, at + CDW12); }
}
