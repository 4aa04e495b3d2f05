package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Identify Namespace data (CNS 0x00), NVMe NVM Command Set 1.0 §4.1.5.1 (4096 B); Linux 6.1 {@code struct nvme_id_ns}. */
public final class IdentifyNamespace {
    public static final int NSFEAT_THIN = 1 << 0;
    public static final int NSFEAT_NATOMIC = 1 << 1;
    public static final int NSFEAT_DULBE = 1 << 2;
    public static final int NSFEAT_ID_REUSE = 1 << 3;
    /** NPWG, NPWA, NPDG, NPDA and NOWS are valid. */
    public static final int NSFEAT_IO_OPT = 1 << 4;

    public static final int FLBAS_INDEX_MASK = 0x0F;
    /** Metadata at the end of each LBA (extended LBA): the only metadata mode fabrics supports. */
    public static final int FLBAS_EXTENDED = 1 << 4;
    /** Bits 6:5 are the upper two bits of the format index when NLBAF > 16. */
    public static final int FLBAS_INDEX_HIGH_MASK = 0x60;

    public static final int DLFEAT_READ_ZEROES = 0x1;
    public static final int DLFEAT_WRITE_ZEROES_DEAC = 1 << 3;

    public static final int NMIC_SHARED = 1 << 0;
    public static final int NSATTR_WRITE_PROTECTED = 1 << 0;

    public static final int LBAF_COUNT = 64;
    public static final int LBAF_SIZE = 4;
    public static final int LBAF_RP_MASK = 0x3;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U64.withName("nsze"),
            U64.withName("ncap"),
            U64.withName("nuse"),
            U8.withName("nsfeat"),
            U8.withName("nlbaf"),
            U8.withName("flbas"),
            U8.withName("mc"),
            U8.withName("dpc"),
            U8.withName("dps"),
            U8.withName("nmic"),
            U8.withName("rescap"),
            U8.withName("fpi"),
            U8.withName("dlfeat"),
            U16.withName("nawun"),
            U16.withName("nawupf"),
            U16.withName("nacwu"),
            U16.withName("nabsn"),
            U16.withName("nabo"),
            U16.withName("nabspf"),
            U16.withName("noiob"),
            MemoryLayout.sequenceLayout(2, U64).withName("nvmcap"),
            U16.withName("npwg"),
            U16.withName("npwa"),
            U16.withName("npdg"),
            U16.withName("npda"),
            U16.withName("nows"),
            U16.withName("mssrl"),
            U32.withName("mcl"),
            U8.withName("msrc"),
            MemoryLayout.paddingLayout(11),
            U32.withName("anagrpid"),
            MemoryLayout.paddingLayout(3),
            U8.withName("nsattr"),
            U16.withName("nvmsetid"),
            U16.withName("endgid"),
            MemoryLayout.sequenceLayout(16, U8).withName("nguid"),
            MemoryLayout.sequenceLayout(8, U8).withName("eui64"),
            MemoryLayout.sequenceLayout(LBAF_COUNT, MemoryLayout.structLayout(
                    U16.withName("ms"),
                    U8.withName("ds"),
                    U8.withName("rp")
            ).withName("nvme_lbaf")).withName("lbaf"),
            MemoryLayout.sequenceLayout(3712, U8).withName("vs")
    ).withName("nvme_id_ns");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_NSZE = LAYOUT.byteOffset(groupElement("nsze"));
    public static final long OFFSET_NCAP = LAYOUT.byteOffset(groupElement("ncap"));
    public static final long OFFSET_NUSE = LAYOUT.byteOffset(groupElement("nuse"));
    public static final long OFFSET_NSFEAT = LAYOUT.byteOffset(groupElement("nsfeat"));
    public static final long OFFSET_NLBAF = LAYOUT.byteOffset(groupElement("nlbaf"));
    public static final long OFFSET_FLBAS = LAYOUT.byteOffset(groupElement("flbas"));
    public static final long OFFSET_MC = LAYOUT.byteOffset(groupElement("mc"));
    public static final long OFFSET_DPC = LAYOUT.byteOffset(groupElement("dpc"));
    public static final long OFFSET_DPS = LAYOUT.byteOffset(groupElement("dps"));
    public static final long OFFSET_NMIC = LAYOUT.byteOffset(groupElement("nmic"));
    public static final long OFFSET_RESCAP = LAYOUT.byteOffset(groupElement("rescap"));
    public static final long OFFSET_FPI = LAYOUT.byteOffset(groupElement("fpi"));
    public static final long OFFSET_DLFEAT = LAYOUT.byteOffset(groupElement("dlfeat"));
    public static final long OFFSET_NAWUN = LAYOUT.byteOffset(groupElement("nawun"));
    public static final long OFFSET_NAWUPF = LAYOUT.byteOffset(groupElement("nawupf"));
    public static final long OFFSET_NACWU = LAYOUT.byteOffset(groupElement("nacwu"));
    public static final long OFFSET_NABSN = LAYOUT.byteOffset(groupElement("nabsn"));
    public static final long OFFSET_NABO = LAYOUT.byteOffset(groupElement("nabo"));
    public static final long OFFSET_NABSPF = LAYOUT.byteOffset(groupElement("nabspf"));
    public static final long OFFSET_NOIOB = LAYOUT.byteOffset(groupElement("noiob"));
    public static final long OFFSET_NVMCAP = LAYOUT.byteOffset(groupElement("nvmcap"));
    public static final long OFFSET_NPWG = LAYOUT.byteOffset(groupElement("npwg"));
    public static final long OFFSET_NPWA = LAYOUT.byteOffset(groupElement("npwa"));
    public static final long OFFSET_NPDG = LAYOUT.byteOffset(groupElement("npdg"));
    public static final long OFFSET_NPDA = LAYOUT.byteOffset(groupElement("npda"));
    public static final long OFFSET_NOWS = LAYOUT.byteOffset(groupElement("nows"));
    public static final long OFFSET_MSSRL = LAYOUT.byteOffset(groupElement("mssrl"));
    public static final long OFFSET_MCL = LAYOUT.byteOffset(groupElement("mcl"));
    public static final long OFFSET_MSRC = LAYOUT.byteOffset(groupElement("msrc"));
    public static final long OFFSET_ANAGRPID = LAYOUT.byteOffset(groupElement("anagrpid"));
    public static final long OFFSET_NSATTR = LAYOUT.byteOffset(groupElement("nsattr"));
    public static final long OFFSET_NVMSETID = LAYOUT.byteOffset(groupElement("nvmsetid"));
    public static final long OFFSET_ENDGID = LAYOUT.byteOffset(groupElement("endgid"));
    public static final long OFFSET_NGUID = LAYOUT.byteOffset(groupElement("nguid"));
    public static final int LENGTH_NGUID = 16;
    public static final long OFFSET_EUI64 = LAYOUT.byteOffset(groupElement("eui64"));
    public static final int LENGTH_EUI64 = 8;
    public static final long OFFSET_LBAF = LAYOUT.byteOffset(groupElement("lbaf"));
    public static final long OFFSET_VENDOR_SPECIFIC = LAYOUT.byteOffset(groupElement("vs"));
    public static final int LENGTH_VENDOR_SPECIFIC = 3712;

    private IdentifyNamespace() {}

    // in LBAs: the host exposes NSZE x 2^LBADS bytes
    public static long nsze(MemorySegment s) { return s.get(U64, OFFSET_NSZE); }
    public static void nsze(MemorySegment s, long v) { s.set(U64, OFFSET_NSZE, v); }

    // 0 means "not allocated": the host removes the namespace
    public static long ncap(MemorySegment s) { return s.get(U64, OFFSET_NCAP); }
    public static void ncap(MemorySegment s, long v) { s.set(U64, OFFSET_NCAP, v); }

    public static long nuse(MemorySegment s) { return s.get(U64, OFFSET_NUSE); }
    public static void nuse(MemorySegment s, long v) { s.set(U64, OFFSET_NUSE, v); }

    public static int nsfeat(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NSFEAT)); }
    public static void nsfeat(MemorySegment s, int v) { s.set(U8, OFFSET_NSFEAT, (byte) v); }

    // 0-based number of LBA formats
    public static int nlbaf(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NLBAF)); }
    public static void nlbaf(MemorySegment s, int v) { s.set(U8, OFFSET_NLBAF, (byte) v); }

    public static int flbas(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FLBAS)); }
    public static void flbas(MemorySegment s, int v) { s.set(U8, OFFSET_FLBAS, (byte) v); }

    public static int mc(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_MC)); }
    public static void mc(MemorySegment s, int v) { s.set(U8, OFFSET_MC, (byte) v); }

    public static int dpc(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DPC)); }
    public static void dpc(MemorySegment s, int v) { s.set(U8, OFFSET_DPC, (byte) v); }

    public static int dps(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DPS)); }
    public static void dps(MemorySegment s, int v) { s.set(U8, OFFSET_DPS, (byte) v); }

    // bit 0 required when the same NSID is reachable through two controllers
    public static int nmic(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NMIC)); }
    public static void nmic(MemorySegment s, int v) { s.set(U8, OFFSET_NMIC, (byte) v); }

    public static int rescap(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_RESCAP)); }
    public static void rescap(MemorySegment s, int v) { s.set(U8, OFFSET_RESCAP, (byte) v); }

    public static int fpi(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FPI)); }
    public static void fpi(MemorySegment s, int v) { s.set(U8, OFFSET_FPI, (byte) v); }

    public static int dlfeat(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DLFEAT)); }
    public static void dlfeat(MemorySegment s, int v) { s.set(U8, OFFSET_DLFEAT, (byte) v); }

    public static int nawun(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NAWUN)); }
    public static void nawun(MemorySegment s, int v) { s.set(U16, OFFSET_NAWUN, (short) v); }

    public static int nawupf(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NAWUPF)); }
    public static void nawupf(MemorySegment s, int v) { s.set(U16, OFFSET_NAWUPF, (short) v); }

    public static int nacwu(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NACWU)); }
    public static void nacwu(MemorySegment s, int v) { s.set(U16, OFFSET_NACWU, (short) v); }

    public static int nabsn(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NABSN)); }
    public static void nabsn(MemorySegment s, int v) { s.set(U16, OFFSET_NABSN, (short) v); }

    public static int nabo(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NABO)); }
    public static void nabo(MemorySegment s, int v) { s.set(U16, OFFSET_NABO, (short) v); }

    public static int nabspf(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NABSPF)); }
    public static void nabspf(MemorySegment s, int v) { s.set(U16, OFFSET_NABSPF, (short) v); }

    public static int noiob(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NOIOB)); }
    public static void noiob(MemorySegment s, int v) { s.set(U16, OFFSET_NOIOB, (short) v); }

    /** Low 64 bits of the 128-bit counter; nvmcapHigh gives the rest. */
    public static long nvmcap(MemorySegment s) { return s.get(U64, OFFSET_NVMCAP); }
    public static long nvmcapHigh(MemorySegment s) { return s.get(U64, OFFSET_NVMCAP + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void nvmcap(MemorySegment s, long v) { s.set(U64, OFFSET_NVMCAP, v); s.set(U64, OFFSET_NVMCAP + 8, 0L); }

    // NPWG..NOWS are 0-based and only read when NSFEAT bit 4 is set
    public static int npwg(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NPWG)); }
    public static void npwg(MemorySegment s, int v) { s.set(U16, OFFSET_NPWG, (short) v); }

    public static int npwa(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NPWA)); }
    public static void npwa(MemorySegment s, int v) { s.set(U16, OFFSET_NPWA, (short) v); }

    public static int npdg(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NPDG)); }
    public static void npdg(MemorySegment s, int v) { s.set(U16, OFFSET_NPDG, (short) v); }

    public static int npda(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NPDA)); }
    public static void npda(MemorySegment s, int v) { s.set(U16, OFFSET_NPDA, (short) v); }

    public static int nows(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NOWS)); }
    public static void nows(MemorySegment s, int v) { s.set(U16, OFFSET_NOWS, (short) v); }

    public static int mssrl(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_MSSRL)); }
    public static void mssrl(MemorySegment s, int v) { s.set(U16, OFFSET_MSSRL, (short) v); }

    public static int mcl(MemorySegment s) { return s.get(U32, OFFSET_MCL); }
    public static void mcl(MemorySegment s, int v) { s.set(U32, OFFSET_MCL, v); }

    public static int msrc(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_MSRC)); }
    public static void msrc(MemorySegment s, int v) { s.set(U8, OFFSET_MSRC, (byte) v); }

    public static int anagrpid(MemorySegment s) { return s.get(U32, OFFSET_ANAGRPID); }
    public static void anagrpid(MemorySegment s, int v) { s.set(U32, OFFSET_ANAGRPID, v); }

    public static int nsattr(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NSATTR)); }
    public static void nsattr(MemorySegment s, int v) { s.set(U8, OFFSET_NSATTR, (byte) v); }

    public static int nvmsetid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NVMSETID)); }
    public static void nvmsetid(MemorySegment s, int v) { s.set(U16, OFFSET_NVMSETID, (short) v); }

    public static int endgid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_ENDGID)); }
    public static void endgid(MemorySegment s, int v) { s.set(U16, OFFSET_ENDGID, (short) v); }

    // must be unique across every subsystem the host sees (all zero is accepted)
    public static MemorySegment nguid(MemorySegment s) { return s.asSlice(OFFSET_NGUID, LENGTH_NGUID); }

    public static MemorySegment eui64(MemorySegment s) { return s.asSlice(OFFSET_EUI64, LENGTH_EUI64); }

    public static MemorySegment vendorSpecific(MemorySegment s) { return s.asSlice(OFFSET_VENDOR_SPECIFIC, LENGTH_VENDOR_SPECIFIC); }

    public static final long OFFSET_LBAF_MS = LAYOUT.byteOffset(groupElement("lbaf"), MemoryLayout.PathElement.sequenceElement(0), groupElement("ms"));
    public static final long OFFSET_LBAF_LBADS = LAYOUT.byteOffset(groupElement("lbaf"), MemoryLayout.PathElement.sequenceElement(0), groupElement("ds"));
    public static final long OFFSET_LBAF_RP = LAYOUT.byteOffset(groupElement("lbaf"), MemoryLayout.PathElement.sequenceElement(0), groupElement("rp"));

    private static long lbaf(int i) { return (long) java.util.Objects.checkIndex(i, LBAF_COUNT) * LBAF_SIZE; }

    /** Metadata bytes per LBA of format {@code i}. */
    public static int lbafMs(MemorySegment s, int i) { return Short.toUnsignedInt(s.get(U16, OFFSET_LBAF_MS + lbaf(i))); }
    public static void lbafMs(MemorySegment s, int i, int v) { s.set(U16, OFFSET_LBAF_MS + lbaf(i), (short) v); }

    /** log2 of the LBA data size of format {@code i} (9 or 12; above PAGE_SHIFT Linux sets capacity 0). */
    public static int lbafLbads(MemorySegment s, int i) { return Byte.toUnsignedInt(s.get(U8, OFFSET_LBAF_LBADS + lbaf(i))); }
    public static void lbafLbads(MemorySegment s, int i, int v) { s.set(U8, OFFSET_LBAF_LBADS + lbaf(i), (byte) v); }

    public static int lbafRp(MemorySegment s, int i) { return s.get(U8, OFFSET_LBAF_RP + lbaf(i)) & LBAF_RP_MASK; }
    public static void lbafRp(MemorySegment s, int i, int v) { s.set(U8, OFFSET_LBAF_RP + lbaf(i), (byte) (v & LBAF_RP_MASK)); }

    /** The LBA format index FLBAS selects (bits 3:0, plus bits 6:5 as index bits 5:4). */
    public static int formatIndex(int flbas) { return flbas & FLBAS_INDEX_MASK | (flbas & FLBAS_INDEX_HIGH_MASK) >>> 1; }
}
