package io.sanport.nvme.fabrics;

import io.sanport.nvme.Wire;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.UUID;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Connect command data, NVMe-oF 1.1 §3.3.1 (1024 B); Linux {@code struct nvmf_connect_data}. */
public final class ConnectData {
    /** Dynamic controller model: allocate any controller. nvmet rejects an admin Connect with anything else. */
    public static final int CNTLID_DYNAMIC = 0xFFFF;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, U8).withName("hostid"),
            U16.withName("cntlid"),
            MemoryLayout.paddingLayout(238),
            MemoryLayout.sequenceLayout(256, U8).withName("subsysnqn"),
            MemoryLayout.sequenceLayout(256, U8).withName("hostnqn"),
            MemoryLayout.paddingLayout(256)
    ).withName("nvmf_connect_data");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_HOSTID = LAYOUT.byteOffset(groupElement("hostid"));
    public static final int LENGTH_HOSTID = 16;
    public static final long OFFSET_CNTLID = LAYOUT.byteOffset(groupElement("cntlid"));
    public static final long OFFSET_SUBNQN = LAYOUT.byteOffset(groupElement("subsysnqn"));
    public static final int LENGTH_SUBNQN = 256;
    public static final long OFFSET_HOSTNQN = LAYOUT.byteOffset(groupElement("hostnqn"));
    public static final int LENGTH_HOSTNQN = 256;

    private ConnectData() {}

    // UUID as raw bytes; the kernel makes a random one per connect unless given
    public static MemorySegment hostid(MemorySegment s) { return s.asSlice(OFFSET_HOSTID, LENGTH_HOSTID); }

    // 0xFFFF on the admin Connect (dynamic model); the granted CNTLID on I/O Connects
    public static int cntlid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CNTLID)); }
    public static void cntlid(MemorySegment s, int v) { s.set(U16, OFFSET_CNTLID, (short) v); }

    public static String subnqn(MemorySegment s) { return Wire.getString(s, OFFSET_SUBNQN, LENGTH_SUBNQN); }
    public static void subnqn(MemorySegment s, String v) { Wire.setString(s, OFFSET_SUBNQN, LENGTH_SUBNQN, v, (byte) 0); }

    public static String hostnqn(MemorySegment s) { return Wire.getString(s, OFFSET_HOSTNQN, LENGTH_HOSTNQN); }
    public static void hostnqn(MemorySegment s, String v) { Wire.setString(s, OFFSET_HOSTNQN, LENGTH_HOSTNQN, v, (byte) 0); }

    public static UUID hostUuid(MemorySegment s) { return Wire.getUuid(s, OFFSET_HOSTID); }
    public static void hostUuid(MemorySegment s, UUID v) { Wire.setUuid(s, OFFSET_HOSTID, v); }
}
