package io.sanport.nvme.fabrics;

import io.sanport.nvme.Wire;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Discovery log page entry, NVMe-oF 1.1 §5.3 (1024 B); Linux {@code struct nvmf_disc_rsp_page_entry}, libnvme {@code nvmf_disc_log_entry}. */
public final class DiscoveryLogEntry {
    public static final int TRTYPE_RDMA = 1;
    public static final int TRTYPE_FC = 2;
    public static final int TRTYPE_TCP = 3;
    public static final int TRTYPE_LOOP = 254;

    public static final int ADRFAM_IPV4 = 1;
    public static final int ADRFAM_IPV6 = 2;
    public static final int ADRFAM_IB = 3;
    public static final int ADRFAM_FC = 4;
    public static final int ADRFAM_LOOP = 254;

    /** Referral to another discovery service: nvme connect-all follows it. */
    public static final int SUBTYPE_REFERRAL = 1;
    public static final int SUBTYPE_NVME = 2;
    /** The discovery subsystem being queried (nvmet lists itself first); connect-all skips it. */
    public static final int SUBTYPE_CURRENT_DISCOVERY = 3;

    public static final int TREQ_SECURE_CHANNEL_MASK = 0x3;
    public static final int TREQ_NOT_SPECIFIED = 0;
    public static final int TREQ_REQUIRED = 1;
    public static final int TREQ_NOT_REQUIRED = 2;
    /** libnvme then adds disable_sqflow to the connect options. */
    public static final int TREQ_DISABLE_SQFLOW = 1 << 2;

    public static final int EFLAGS_DUPRETINFO = 1 << 0;
    public static final int EFLAGS_EPCSD = 1 << 1;

    public static final int CNTLID_DYNAMIC = 0xFFFF;

    public static final int RDMA_QPTYPE_CONNECTED = 1;
    public static final int RDMA_QPTYPE_DATAGRAM = 2;
    public static final int RDMA_PRTYPE_NOT_SPECIFIED = 1;
    public static final int RDMA_PRTYPE_IB = 2;
    public static final int RDMA_PRTYPE_ROCE = 3;
    public static final int RDMA_PRTYPE_ROCEV2 = 4;
    public static final int RDMA_PRTYPE_IWARP = 5;
    public static final int RDMA_CMS_RDMA_CM = 1;

    /** libnvme >= 1.7 asks for TLS when SECTYPE != 0. */
    public static final int TCP_SECTYPE_NONE = 0;
    public static final int TCP_SECTYPE_TLS12 = 1;
    public static final int TCP_SECTYPE_TLS13 = 2;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("trtype"),
            U8.withName("adrfam"),
            U8.withName("subtype"),
            U8.withName("treq"),
            U16.withName("portid"),
            U16.withName("cntlid"),
            U16.withName("asqsz"),
            U16.withName("eflags"),
            MemoryLayout.paddingLayout(20),
            MemoryLayout.sequenceLayout(32, U8).withName("trsvcid"),
            MemoryLayout.paddingLayout(192),
            MemoryLayout.sequenceLayout(256, U8).withName("subnqn"),
            MemoryLayout.sequenceLayout(256, U8).withName("traddr"),
            MemoryLayout.unionLayout(
                    MemoryLayout.structLayout(
                            U8.withName("qptype"),
                            U8.withName("prtype"),
                            U8.withName("cms"),
                            MemoryLayout.paddingLayout(5),
                            U16.withName("pkey"),
                            MemoryLayout.paddingLayout(246)
                    ).withName("rdma"),
                    MemoryLayout.structLayout(
                            U8.withName("sectype"),
                            MemoryLayout.paddingLayout(255)
                    ).withName("tcp")
            ).withName("tsas")
    ).withName("nvmf_disc_rsp_page_entry");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_TRTYPE = LAYOUT.byteOffset(groupElement("trtype"));
    public static final long OFFSET_ADRFAM = LAYOUT.byteOffset(groupElement("adrfam"));
    public static final long OFFSET_SUBTYPE = LAYOUT.byteOffset(groupElement("subtype"));
    public static final long OFFSET_TREQ = LAYOUT.byteOffset(groupElement("treq"));
    public static final long OFFSET_PORTID = LAYOUT.byteOffset(groupElement("portid"));
    public static final long OFFSET_CNTLID = LAYOUT.byteOffset(groupElement("cntlid"));
    public static final long OFFSET_ASQSZ = LAYOUT.byteOffset(groupElement("asqsz"));
    public static final long OFFSET_EFLAGS = LAYOUT.byteOffset(groupElement("eflags"));
    public static final long OFFSET_TRSVCID = LAYOUT.byteOffset(groupElement("trsvcid"));
    public static final int LENGTH_TRSVCID = 32;
    public static final long OFFSET_SUBNQN = LAYOUT.byteOffset(groupElement("subnqn"));
    public static final int LENGTH_SUBNQN = 256;
    public static final long OFFSET_TRADDR = LAYOUT.byteOffset(groupElement("traddr"));
    public static final int LENGTH_TRADDR = 256;
    public static final long OFFSET_TSAS = LAYOUT.byteOffset(groupElement("tsas"));

    private DiscoveryLogEntry() {}

    public static int trtype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_TRTYPE)); }
    public static void trtype(MemorySegment s, int v) { s.set(U8, OFFSET_TRTYPE, (byte) v); }

    public static int adrfam(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_ADRFAM)); }
    public static void adrfam(MemorySegment s, int v) { s.set(U8, OFFSET_ADRFAM, (byte) v); }

    public static int subtype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_SUBTYPE)); }
    public static void subtype(MemorySegment s, int v) { s.set(U8, OFFSET_SUBTYPE, (byte) v); }

    // keep bits 1:0 = 0 on TCP: libnvme would ask a 6.1 kernel for TLS it rejects
    public static int treq(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_TREQ)); }
    public static void treq(MemorySegment s, int v) { s.set(U8, OFFSET_TREQ, (byte) v); }

    public static int portid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_PORTID)); }
    public static void portid(MemorySegment s, int v) { s.set(U16, OFFSET_PORTID, (short) v); }

    public static int cntlid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CNTLID)); }
    public static void cntlid(MemorySegment s, int v) { s.set(U16, OFFSET_CNTLID, (short) v); }

    public static int asqsz(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_ASQSZ)); }
    public static void asqsz(MemorySegment s, int v) { s.set(U16, OFFSET_ASQSZ, (short) v); }

    public static int eflags(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_EFLAGS)); }
    public static void eflags(MemorySegment s, int v) { s.set(U16, OFFSET_EFLAGS, (short) v); }

    public static String trsvcid(MemorySegment s) { return Wire.getString(s, OFFSET_TRSVCID, LENGTH_TRSVCID); }
    public static void trsvcid(MemorySegment s, String v) { Wire.setString(s, OFFSET_TRSVCID, LENGTH_TRSVCID, v, (byte) ' '); }

    public static String subnqn(MemorySegment s) { return Wire.getString(s, OFFSET_SUBNQN, LENGTH_SUBNQN); }
    public static void subnqn(MemorySegment s, String v) { Wire.setString(s, OFFSET_SUBNQN, LENGTH_SUBNQN, v, (byte) 0); }

    // the address the host connected to, never a wildcard
    public static String traddr(MemorySegment s) { return Wire.getString(s, OFFSET_TRADDR, LENGTH_TRADDR); }
    public static void traddr(MemorySegment s, String v) { Wire.setString(s, OFFSET_TRADDR, LENGTH_TRADDR, v, (byte) ' '); }

    public static final long OFFSET_RDMA_QPTYPE = LAYOUT.byteOffset(groupElement("tsas"), groupElement("rdma"), groupElement("qptype"));
    public static final long OFFSET_RDMA_PRTYPE = LAYOUT.byteOffset(groupElement("tsas"), groupElement("rdma"), groupElement("prtype"));
    public static final long OFFSET_RDMA_CMS = LAYOUT.byteOffset(groupElement("tsas"), groupElement("rdma"), groupElement("cms"));
    public static final long OFFSET_RDMA_PKEY = LAYOUT.byteOffset(groupElement("tsas"), groupElement("rdma"), groupElement("pkey"));
    public static final long OFFSET_TCP_SECTYPE = LAYOUT.byteOffset(groupElement("tsas"), groupElement("tcp"), groupElement("sectype"));

    public static int rdmaQptype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_RDMA_QPTYPE)); }
    public static void rdmaQptype(MemorySegment s, int v) { s.set(U8, OFFSET_RDMA_QPTYPE, (byte) v); }

    public static int rdmaPrtype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_RDMA_PRTYPE)); }
    public static void rdmaPrtype(MemorySegment s, int v) { s.set(U8, OFFSET_RDMA_PRTYPE, (byte) v); }

    public static int rdmaCms(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_RDMA_CMS)); }
    public static void rdmaCms(MemorySegment s, int v) { s.set(U8, OFFSET_RDMA_CMS, (byte) v); }

    public static int rdmaPkey(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_RDMA_PKEY)); }
    public static void rdmaPkey(MemorySegment s, int v) { s.set(U16, OFFSET_RDMA_PKEY, (short) v); }

    public static int tcpSectype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_TCP_SECTYPE)); }
    public static void tcpSectype(MemorySegment s, int v) { s.set(U8, OFFSET_TCP_SECTYPE, (byte) v); }
}
