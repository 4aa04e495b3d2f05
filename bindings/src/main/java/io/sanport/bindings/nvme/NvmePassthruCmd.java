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
 * {@code struct nvme_passthru_cmd} ({@code <linux/nvme_ioctl.h>}, alias {@code nvme_admin_cmd}): the 72-byte
 * argument of NVME_IOCTL_ADMIN_CMD and NVME_IOCTL_IO_CMD; the kernel writes the completion's DW0 to
 * {@code result} and returns the NVMe status (> 0) or -errno from ioctl.
 */
public final class NvmePassthruCmd {
    private NvmePassthruCmd() {}

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
            JAVA_INT.withName("result")
    ).withName("nvme_passthru_cmd");

    public static final long SIZE = LAYOUT.byteSize();
    private static final long OPCODE = Native.requireOffset(LAYOUT, "opcode");
    private static final long NSID = Native.requireOffset(LAYOUT, "nsid");
    private static final long ADDR = Native.requireOffset(LAYOUT, "addr");
    private static final long DATA_LEN = Native.requireOffset(LAYOUT, "data_len");
    private static final long CDW10 = Native.requireOffset(LAYOUT, "cdw10");
    private static final long CDW11 = Native.requireOffset(LAYOUT, "cdw11");
    private static final long CDW12 = Native.requireOffset(LAYOUT, "cdw12");
    private static final long RESULT = Native.requireOffset(LAYOUT, "result");

    public static void opcode(MemorySegment s, byte v) { s.set(JAVA_BYTE, OPCODE, v); }
    public static void nsid(MemorySegment s, int v) { s.set(JAVA_INT, NSID, v); }
    public static void addr(MemorySegment s, long v) { s.set(JAVA_LONG, ADDR, v); }
    public static void data_len(MemorySegment s, int v) { s.set(JAVA_INT, DATA_LEN, v); }
    public static void cdw10(MemorySegment s, int v) { s.set(JAVA_INT, CDW10, v); }
    public static void cdw11(MemorySegment s, int v) { s.set(JAVA_INT, CDW11, v); }
    public static void cdw12(MemorySegment s, int v) { s.set(JAVA_INT, CDW12, v); }
    public static int result(MemorySegment s) { return s.get(JAVA_INT, RESULT); }
}
