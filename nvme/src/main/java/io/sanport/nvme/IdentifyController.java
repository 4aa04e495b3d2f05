package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** Identify Controller data (CNS 0x01), NVMe Base 2.0 §5.17.2.1 + NVMe-oF 1.1 §4.1 (4096 B); libnvme {@code struct nvme_id_ctrl}. */
public final class IdentifyController {
    public static final int CMIC_MULTI_PORT = 1 << 0;
    public static final int CMIC_MULTI_CTRL = 1 << 1;
    public static final int CMIC_SRIOV = 1 << 2;
    /** Makes the Linux host read the ANA log and fail the connect without one: leave clear without ANA. */
    public static final int CMIC_ANA = 1 << 3;

    public static final int OAES_NS_ATTRIBUTE = 1 << 8;
    public static final int OAES_FW_ACTIVATION = 1 << 9;
    public static final int OAES_ANA_CHANGE = 1 << 11;
    public static final int OAES_DISCOVERY_CHANGE = 1 << 31;

    public static final int CTRATT_HOST_ID_128 = 1 << 0;
    /** Traffic-based keep alive: every command resets the KATO timer. */
    public static final int CTRATT_TBKAS = 1 << 6;
    public static final int CTRATT_ELBAS = 1 << 15;

    public static final int CNTRLTYPE_IO = 1;
    public static final int CNTRLTYPE_DISCOVERY = 2;
    public static final int CNTRLTYPE_ADMIN = 3;

    public static final int OACS_SECURITY = 1 << 0;

    /** Makes the host read log 0x05 (Commands Supported and Effects). */
    public static final int LPA_CMD_EFFECTS = 1 << 1;
    /** Get Log Page supports LPO offsets: discovery controllers should set it. */
    public static final int LPA_EXTENDED_DATA = 1 << 2;

    public static final int ONCS_COMPARE = 1 << 0;
    public static final int ONCS_WRITE_UNCORRECTABLE = 1 << 1;
    /** Linux turns this into discard. */
    public static final int ONCS_DSM = 1 << 2;
    public static final int ONCS_WRITE_ZEROES = 1 << 3;
    public static final int ONCS_SAVE_FEATURES = 1 << 4;
    public static final int ONCS_RESERVATIONS = 1 << 5;
    public static final int ONCS_TIMESTAMP = 1 << 6;

    public static final int VWC_PRESENT = 1 << 0;

    public static final int SGLS_SUPPORTED = 0x1;
    public static final int SGLS_SUPPORTED_DWORD_ALIGNED = 0x2;
    /** Required by the Linux RDMA host. */
    public static final int SGLS_KEYED = 1 << 2;
    public static final int SGLS_BIT_BUCKET = 1 << 16;
    public static final int SGLS_MPTR_BYTE_ALIGNED = 1 << 17;
    public static final int SGLS_OVERSIZED = 1 << 18;
    public static final int SGLS_MPTR_SGL = 1 << 19;
    /** Address may be an offset: without it the Linux RDMA host sends no in-capsule data. */
    public static final int SGLS_OFFSET = 1 << 20;
    public static final int SGLS_TRANSPORT = 1 << 21;

    /** CTRATTR bit 0: static controller model (0 = dynamic, what Linux nvmet uses). */
    public static final int CTRATTR_STATIC = 1 << 0;

    public static final int DCTYPE_NOT_REPORTED = 0;
    public static final int DCTYPE_DDC = 1;
    public static final int DCTYPE_CDC = 2;

    /** SQES/CQES: required (bits 3:0) and maximum (bits 7:4) entry size as log2; 0x66 = 64 B SQE, 0x44 = 16 B CQE. */
    public static final int SQES_64 = 0x66;
    public static final int CQES_16 = 0x44;

    public static final int PSD_SIZE = 32;
    public static final int PSD_COUNT = 32;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U16.withName("vid"),
            U16.withName("ssvid"),
            MemoryLayout.sequenceLayout(20, U8).withName("sn"),
            MemoryLayout.sequenceLayout(40, U8).withName("mn"),
            MemoryLayout.sequenceLayout(8, U8).withName("fr"),
            U8.withName("rab"),
            MemoryLayout.sequenceLayout(3, U8).withName("ieee"),
            U8.withName("cmic"),
            U8.withName("mdts"),
            U16.withName("cntlid"),
            U32.withName("ver"),
            U32.withName("rtd3r"),
            U32.withName("rtd3e"),
            U32.withName("oaes"),
            U32.withName("ctratt"),
            U16.withName("rrls"),
            MemoryLayout.paddingLayout(9),
            U8.withName("cntrltype"),
            MemoryLayout.sequenceLayout(16, U8).withName("fguid"),
            U16.withName("crdt1"),
            U16.withName("crdt2"),
            U16.withName("crdt3"),
            MemoryLayout.paddingLayout(119),
            U8.withName("nvmsr"),
            U8.withName("vwci"),
            U8.withName("mec"),
            U16.withName("oacs"),
            U8.withName("acl"),
            U8.withName("aerl"),
            U8.withName("frmw"),
            U8.withName("lpa"),
            U8.withName("elpe"),
            U8.withName("npss"),
            U8.withName("avscc"),
            U8.withName("apsta"),
            U16.withName("wctemp"),
            U16.withName("cctemp"),
            U16.withName("mtfa"),
            U32.withName("hmpre"),
            U32.withName("hmmin"),
            MemoryLayout.sequenceLayout(2, U64).withName("tnvmcap"),
            MemoryLayout.sequenceLayout(2, U64).withName("unvmcap"),
            U32.withName("rpmbs"),
            U16.withName("edstt"),
            U8.withName("dsto"),
            U8.withName("fwug"),
            U16.withName("kas"),
            U16.withName("hctma"),
            U16.withName("mntmt"),
            U16.withName("mxtmt"),
            U32.withName("sanicap"),
            U32.withName("hmminds"),
            U16.withName("hmmaxd"),
            U16.withName("nsetidmax"),
            U16.withName("endgidmax"),
            U8.withName("anatt"),
            U8.withName("anacap"),
            U32.withName("anagrpmax"),
            U32.withName("nanagrpid"),
            U32.withName("pels"),
            MemoryLayout.paddingLayout(156),
            U8.withName("sqes"),
            U8.withName("cqes"),
            U16.withName("maxcmd"),
            U32.withName("nn"),
            U16.withName("oncs"),
            U16.withName("fuses"),
            U8.withName("fna"),
            U8.withName("vwc"),
            U16.withName("awun"),
            U16.withName("awupf"),
            U8.withName("icsvscc"),
            U8.withName("nwpc"),
            U16.withName("acwu"),
            U16.withName("ocfs"),
            U32.withName("sgls"),
            U32.withName("mnan"),
            MemoryLayout.paddingLayout(224),
            MemoryLayout.sequenceLayout(256, U8).withName("subnqn"),
            MemoryLayout.paddingLayout(768),
            U32.withName("ioccsz"),
            U32.withName("iorcsz"),
            U16.withName("icdoff"),
            U8.withName("fcatt"),
            U8.withName("msdbd"),
            U16.withName("ofcs"),
            U8.withName("dctype"),
            MemoryLayout.paddingLayout(241),
            MemoryLayout.sequenceLayout(1024, U8).withName("psd"),
            MemoryLayout.sequenceLayout(1024, U8).withName("vs")
    ).withName("nvme_id_ctrl");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_VID = LAYOUT.byteOffset(groupElement("vid"));
    public static final long OFFSET_SSVID = LAYOUT.byteOffset(groupElement("ssvid"));
    public static final long OFFSET_SN = LAYOUT.byteOffset(groupElement("sn"));
    public static final int LENGTH_SN = 20;
    public static final long OFFSET_MN = LAYOUT.byteOffset(groupElement("mn"));
    public static final int LENGTH_MN = 40;
    public static final long OFFSET_FR = LAYOUT.byteOffset(groupElement("fr"));
    public static final int LENGTH_FR = 8;
    public static final long OFFSET_RAB = LAYOUT.byteOffset(groupElement("rab"));
    public static final long OFFSET_IEEE = LAYOUT.byteOffset(groupElement("ieee"));
    public static final int LENGTH_IEEE = 3;
    public static final long OFFSET_CMIC = LAYOUT.byteOffset(groupElement("cmic"));
    public static final long OFFSET_MDTS = LAYOUT.byteOffset(groupElement("mdts"));
    public static final long OFFSET_CNTLID = LAYOUT.byteOffset(groupElement("cntlid"));
    public static final long OFFSET_VER = LAYOUT.byteOffset(groupElement("ver"));
    public static final long OFFSET_RTD3R = LAYOUT.byteOffset(groupElement("rtd3r"));
    public static final long OFFSET_RTD3E = LAYOUT.byteOffset(groupElement("rtd3e"));
    public static final long OFFSET_OAES = LAYOUT.byteOffset(groupElement("oaes"));
    public static final long OFFSET_CTRATT = LAYOUT.byteOffset(groupElement("ctratt"));
    public static final long OFFSET_RRLS = LAYOUT.byteOffset(groupElement("rrls"));
    public static final long OFFSET_CNTRLTYPE = LAYOUT.byteOffset(groupElement("cntrltype"));
    public static final long OFFSET_FGUID = LAYOUT.byteOffset(groupElement("fguid"));
    public static final int LENGTH_FGUID = 16;
    public static final long OFFSET_CRDT1 = LAYOUT.byteOffset(groupElement("crdt1"));
    public static final long OFFSET_CRDT2 = LAYOUT.byteOffset(groupElement("crdt2"));
    public static final long OFFSET_CRDT3 = LAYOUT.byteOffset(groupElement("crdt3"));
    public static final long OFFSET_NVMSR = LAYOUT.byteOffset(groupElement("nvmsr"));
    public static final long OFFSET_VWCI = LAYOUT.byteOffset(groupElement("vwci"));
    public static final long OFFSET_MEC = LAYOUT.byteOffset(groupElement("mec"));
    public static final long OFFSET_OACS = LAYOUT.byteOffset(groupElement("oacs"));
    public static final long OFFSET_ACL = LAYOUT.byteOffset(groupElement("acl"));
    public static final long OFFSET_AERL = LAYOUT.byteOffset(groupElement("aerl"));
    public static final long OFFSET_FRMW = LAYOUT.byteOffset(groupElement("frmw"));
    public static final long OFFSET_LPA = LAYOUT.byteOffset(groupElement("lpa"));
    public static final long OFFSET_ELPE = LAYOUT.byteOffset(groupElement("elpe"));
    public static final long OFFSET_NPSS = LAYOUT.byteOffset(groupElement("npss"));
    public static final long OFFSET_AVSCC = LAYOUT.byteOffset(groupElement("avscc"));
    public static final long OFFSET_APSTA = LAYOUT.byteOffset(groupElement("apsta"));
    public static final long OFFSET_WCTEMP = LAYOUT.byteOffset(groupElement("wctemp"));
    public static final long OFFSET_CCTEMP = LAYOUT.byteOffset(groupElement("cctemp"));
    public static final long OFFSET_MTFA = LAYOUT.byteOffset(groupElement("mtfa"));
    public static final long OFFSET_HMPRE = LAYOUT.byteOffset(groupElement("hmpre"));
    public static final long OFFSET_HMMIN = LAYOUT.byteOffset(groupElement("hmmin"));
    public static final long OFFSET_TNVMCAP = LAYOUT.byteOffset(groupElement("tnvmcap"));
    public static final long OFFSET_UNVMCAP = LAYOUT.byteOffset(groupElement("unvmcap"));
    public static final long OFFSET_RPMBS = LAYOUT.byteOffset(groupElement("rpmbs"));
    public static final long OFFSET_EDSTT = LAYOUT.byteOffset(groupElement("edstt"));
    public static final long OFFSET_DSTO = LAYOUT.byteOffset(groupElement("dsto"));
    public static final long OFFSET_FWUG = LAYOUT.byteOffset(groupElement("fwug"));
    public static final long OFFSET_KAS = LAYOUT.byteOffset(groupElement("kas"));
    public static final long OFFSET_HCTMA = LAYOUT.byteOffset(groupElement("hctma"));
    public static final long OFFSET_MNTMT = LAYOUT.byteOffset(groupElement("mntmt"));
    public static final long OFFSET_MXTMT = LAYOUT.byteOffset(groupElement("mxtmt"));
    public static final long OFFSET_SANICAP = LAYOUT.byteOffset(groupElement("sanicap"));
    public static final long OFFSET_HMMINDS = LAYOUT.byteOffset(groupElement("hmminds"));
    public static final long OFFSET_HMMAXD = LAYOUT.byteOffset(groupElement("hmmaxd"));
    public static final long OFFSET_NSETIDMAX = LAYOUT.byteOffset(groupElement("nsetidmax"));
    public static final long OFFSET_ENDGIDMAX = LAYOUT.byteOffset(groupElement("endgidmax"));
    public static final long OFFSET_ANATT = LAYOUT.byteOffset(groupElement("anatt"));
    public static final long OFFSET_ANACAP = LAYOUT.byteOffset(groupElement("anacap"));
    public static final long OFFSET_ANAGRPMAX = LAYOUT.byteOffset(groupElement("anagrpmax"));
    public static final long OFFSET_NANAGRPID = LAYOUT.byteOffset(groupElement("nanagrpid"));
    public static final long OFFSET_PELS = LAYOUT.byteOffset(groupElement("pels"));
    public static final long OFFSET_SQES = LAYOUT.byteOffset(groupElement("sqes"));
    public static final long OFFSET_CQES = LAYOUT.byteOffset(groupElement("cqes"));
    public static final long OFFSET_MAXCMD = LAYOUT.byteOffset(groupElement("maxcmd"));
    public static final long OFFSET_NN = LAYOUT.byteOffset(groupElement("nn"));
    public static final long OFFSET_ONCS = LAYOUT.byteOffset(groupElement("oncs"));
    public static final long OFFSET_FUSES = LAYOUT.byteOffset(groupElement("fuses"));
    public static final long OFFSET_FNA = LAYOUT.byteOffset(groupElement("fna"));
    public static final long OFFSET_VWC = LAYOUT.byteOffset(groupElement("vwc"));
    public static final long OFFSET_AWUN = LAYOUT.byteOffset(groupElement("awun"));
    public static final long OFFSET_AWUPF = LAYOUT.byteOffset(groupElement("awupf"));
    public static final long OFFSET_ICSVSCC = LAYOUT.byteOffset(groupElement("icsvscc"));
    public static final long OFFSET_NWPC = LAYOUT.byteOffset(groupElement("nwpc"));
    public static final long OFFSET_ACWU = LAYOUT.byteOffset(groupElement("acwu"));
    public static final long OFFSET_OCFS = LAYOUT.byteOffset(groupElement("ocfs"));
    public static final long OFFSET_SGLS = LAYOUT.byteOffset(groupElement("sgls"));
    public static final long OFFSET_MNAN = LAYOUT.byteOffset(groupElement("mnan"));
    public static final long OFFSET_SUBNQN = LAYOUT.byteOffset(groupElement("subnqn"));
    public static final int LENGTH_SUBNQN = 256;
    public static final long OFFSET_IOCCSZ = LAYOUT.byteOffset(groupElement("ioccsz"));
    public static final long OFFSET_IORCSZ = LAYOUT.byteOffset(groupElement("iorcsz"));
    public static final long OFFSET_ICDOFF = LAYOUT.byteOffset(groupElement("icdoff"));
    public static final long OFFSET_CTRATTR = LAYOUT.byteOffset(groupElement("fcatt"));
    public static final long OFFSET_MSDBD = LAYOUT.byteOffset(groupElement("msdbd"));
    public static final long OFFSET_OFCS = LAYOUT.byteOffset(groupElement("ofcs"));
    public static final long OFFSET_DCTYPE = LAYOUT.byteOffset(groupElement("dctype"));
    public static final long OFFSET_PSD = LAYOUT.byteOffset(groupElement("psd"));
    public static final int LENGTH_PSD = 1024;
    public static final long OFFSET_VENDOR_SPECIFIC = LAYOUT.byteOffset(groupElement("vs"));
    public static final int LENGTH_VENDOR_SPECIFIC = 1024;

    private IdentifyController() {}

    public static int vid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_VID)); }
    public static void vid(MemorySegment s, int v) { s.set(U16, OFFSET_VID, (short) v); }

    public static int ssvid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_SSVID)); }
    public static void ssvid(MemorySegment s, int v) { s.set(U16, OFFSET_SSVID, (short) v); }

    public static String sn(MemorySegment s) { return Wire.getString(s, OFFSET_SN, LENGTH_SN); }
    public static void sn(MemorySegment s, String v) { Wire.setString(s, OFFSET_SN, LENGTH_SN, v, (byte) ' '); }

    public static String mn(MemorySegment s) { return Wire.getString(s, OFFSET_MN, LENGTH_MN); }
    public static void mn(MemorySegment s, String v) { Wire.setString(s, OFFSET_MN, LENGTH_MN, v, (byte) ' '); }

    public static String fr(MemorySegment s) { return Wire.getString(s, OFFSET_FR, LENGTH_FR); }
    public static void fr(MemorySegment s, String v) { Wire.setString(s, OFFSET_FR, LENGTH_FR, v, (byte) ' '); }

    public static int rab(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_RAB)); }
    public static void rab(MemorySegment s, int v) { s.set(U8, OFFSET_RAB, (byte) v); }

    public static MemorySegment ieee(MemorySegment s) { return s.asSlice(OFFSET_IEEE, LENGTH_IEEE); }

    // bit 1 is required once a host opens two controllers to the subsystem
    public static int cmic(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CMIC)); }
    public static void cmic(MemorySegment s, int v) { s.set(U8, OFFSET_CMIC, (byte) v); }

    // max transfer = 2^MDTS x 4 KiB (CAP.MPSMIN = 0); 0 = unlimited
    public static int mdts(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_MDTS)); }
    public static void mdts(MemorySegment s, int v) { s.set(U8, OFFSET_MDTS, (byte) v); }

    // must equal the CNTLID returned by Connect, else "Mismatching cntlid"
    public static int cntlid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CNTLID)); }
    public static void cntlid(MemorySegment s, int v) { s.set(U16, OFFSET_CNTLID, (short) v); }

    public static int ver(MemorySegment s) { return s.get(U32, OFFSET_VER); }
    public static void ver(MemorySegment s, int v) { s.set(U32, OFFSET_VER, v); }

    public static long rtd3r(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_RTD3R)); }
    public static void rtd3r(MemorySegment s, long v) { s.set(U32, OFFSET_RTD3R, (int) v); }

    // microseconds; the host derives its shutdown timeout from it (clamped 5..60 s)
    public static long rtd3e(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_RTD3E)); }
    public static void rtd3e(MemorySegment s, long v) { s.set(U32, OFFSET_RTD3E, (int) v); }

    // gates Set Features AEC and the AER: no known bit, no AER ever
    public static int oaes(MemorySegment s) { return s.get(U32, OFFSET_OAES); }
    public static void oaes(MemorySegment s, int v) { s.set(U32, OFFSET_OAES, v); }

    public static int ctratt(MemorySegment s) { return s.get(U32, OFFSET_CTRATT); }
    public static void ctratt(MemorySegment s, int v) { s.set(U32, OFFSET_CTRATT, v); }

    public static int rrls(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_RRLS)); }
    public static void rrls(MemorySegment s, int v) { s.set(U16, OFFSET_RRLS, (short) v); }

    public static int cntrltype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CNTRLTYPE)); }
    public static void cntrltype(MemorySegment s, int v) { s.set(U8, OFFSET_CNTRLTYPE, (byte) v); }

    public static MemorySegment fguid(MemorySegment s) { return s.asSlice(OFFSET_FGUID, LENGTH_FGUID); }

    // non-zero makes the host send Set Features Host Behavior
    public static int crdt1(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CRDT1)); }
    public static void crdt1(MemorySegment s, int v) { s.set(U16, OFFSET_CRDT1, (short) v); }

    public static int crdt2(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CRDT2)); }
    public static void crdt2(MemorySegment s, int v) { s.set(U16, OFFSET_CRDT2, (short) v); }

    public static int crdt3(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CRDT3)); }
    public static void crdt3(MemorySegment s, int v) { s.set(U16, OFFSET_CRDT3, (short) v); }

    public static int nvmsr(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NVMSR)); }
    public static void nvmsr(MemorySegment s, int v) { s.set(U8, OFFSET_NVMSR, (byte) v); }

    public static int vwci(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_VWCI)); }
    public static void vwci(MemorySegment s, int v) { s.set(U8, OFFSET_VWCI, (byte) v); }

    public static int mec(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_MEC)); }
    public static void mec(MemorySegment s, int v) { s.set(U8, OFFSET_MEC, (byte) v); }

    public static int oacs(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_OACS)); }
    public static void oacs(MemorySegment s, int v) { s.set(U16, OFFSET_OACS, (short) v); }

    public static int acl(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_ACL)); }
    public static void acl(MemorySegment s, int v) { s.set(U8, OFFSET_ACL, (byte) v); }

    public static int aerl(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_AERL)); }
    public static void aerl(MemorySegment s, int v) { s.set(U8, OFFSET_AERL, (byte) v); }

    public static int frmw(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FRMW)); }
    public static void frmw(MemorySegment s, int v) { s.set(U8, OFFSET_FRMW, (byte) v); }

    public static int lpa(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_LPA)); }
    public static void lpa(MemorySegment s, int v) { s.set(U8, OFFSET_LPA, (byte) v); }

    public static int elpe(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_ELPE)); }
    public static void elpe(MemorySegment s, int v) { s.set(U8, OFFSET_ELPE, (byte) v); }

    public static int npss(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NPSS)); }
    public static void npss(MemorySegment s, int v) { s.set(U8, OFFSET_NPSS, (byte) v); }

    public static int avscc(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_AVSCC)); }
    public static void avscc(MemorySegment s, int v) { s.set(U8, OFFSET_AVSCC, (byte) v); }

    // non-zero makes the host send Set Features APST
    public static int apsta(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_APSTA)); }
    public static void apsta(MemorySegment s, int v) { s.set(U8, OFFSET_APSTA, (byte) v); }

    public static int wctemp(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_WCTEMP)); }
    public static void wctemp(MemorySegment s, int v) { s.set(U16, OFFSET_WCTEMP, (short) v); }

    public static int cctemp(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_CCTEMP)); }
    public static void cctemp(MemorySegment s, int v) { s.set(U16, OFFSET_CCTEMP, (short) v); }

    public static int mtfa(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_MTFA)); }
    public static void mtfa(MemorySegment s, int v) { s.set(U16, OFFSET_MTFA, (short) v); }

    public static int hmpre(MemorySegment s) { return s.get(U32, OFFSET_HMPRE); }
    public static void hmpre(MemorySegment s, int v) { s.set(U32, OFFSET_HMPRE, v); }

    public static int hmmin(MemorySegment s) { return s.get(U32, OFFSET_HMMIN); }
    public static void hmmin(MemorySegment s, int v) { s.set(U32, OFFSET_HMMIN, v); }

    /** Low 64 bits of the 128-bit counter; tnvmcapHigh gives the rest. */
    public static long tnvmcap(MemorySegment s) { return s.get(U64, OFFSET_TNVMCAP); }
    public static long tnvmcapHigh(MemorySegment s) { return s.get(U64, OFFSET_TNVMCAP + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void tnvmcap(MemorySegment s, long v) { s.set(U64, OFFSET_TNVMCAP, v); s.set(U64, OFFSET_TNVMCAP + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; unvmcapHigh gives the rest. */
    public static long unvmcap(MemorySegment s) { return s.get(U64, OFFSET_UNVMCAP); }
    public static long unvmcapHigh(MemorySegment s) { return s.get(U64, OFFSET_UNVMCAP + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void unvmcap(MemorySegment s, long v) { s.set(U64, OFFSET_UNVMCAP, v); s.set(U64, OFFSET_UNVMCAP + 8, 0L); }

    public static int rpmbs(MemorySegment s) { return s.get(U32, OFFSET_RPMBS); }
    public static void rpmbs(MemorySegment s, int v) { s.set(U32, OFFSET_RPMBS, v); }

    public static int edstt(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_EDSTT)); }
    public static void edstt(MemorySegment s, int v) { s.set(U16, OFFSET_EDSTT, (short) v); }

    public static int dsto(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DSTO)); }
    public static void dsto(MemorySegment s, int v) { s.set(U8, OFFSET_DSTO, (byte) v); }

    public static int fwug(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FWUG)); }
    public static void fwug(MemorySegment s, int v) { s.set(U8, OFFSET_FWUG, (byte) v); }

    // 100 ms units; must be non-zero for fabrics I/O controllers
    public static int kas(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_KAS)); }
    public static void kas(MemorySegment s, int v) { s.set(U16, OFFSET_KAS, (short) v); }

    public static int hctma(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_HCTMA)); }
    public static void hctma(MemorySegment s, int v) { s.set(U16, OFFSET_HCTMA, (short) v); }

    public static int mntmt(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_MNTMT)); }
    public static void mntmt(MemorySegment s, int v) { s.set(U16, OFFSET_MNTMT, (short) v); }

    public static int mxtmt(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_MXTMT)); }
    public static void mxtmt(MemorySegment s, int v) { s.set(U16, OFFSET_MXTMT, (short) v); }

    public static int sanicap(MemorySegment s) { return s.get(U32, OFFSET_SANICAP); }
    public static void sanicap(MemorySegment s, int v) { s.set(U32, OFFSET_SANICAP, v); }

    public static int hmminds(MemorySegment s) { return s.get(U32, OFFSET_HMMINDS); }
    public static void hmminds(MemorySegment s, int v) { s.set(U32, OFFSET_HMMINDS, v); }

    public static int hmmaxd(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_HMMAXD)); }
    public static void hmmaxd(MemorySegment s, int v) { s.set(U16, OFFSET_HMMAXD, (short) v); }

    public static int nsetidmax(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_NSETIDMAX)); }
    public static void nsetidmax(MemorySegment s, int v) { s.set(U16, OFFSET_NSETIDMAX, (short) v); }

    public static int endgidmax(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_ENDGIDMAX)); }
    public static void endgidmax(MemorySegment s, int v) { s.set(U16, OFFSET_ENDGIDMAX, (short) v); }

    public static int anatt(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_ANATT)); }
    public static void anatt(MemorySegment s, int v) { s.set(U8, OFFSET_ANATT, (byte) v); }

    public static int anacap(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_ANACAP)); }
    public static void anacap(MemorySegment s, int v) { s.set(U8, OFFSET_ANACAP, (byte) v); }

    public static int anagrpmax(MemorySegment s) { return s.get(U32, OFFSET_ANAGRPMAX); }
    public static void anagrpmax(MemorySegment s, int v) { s.set(U32, OFFSET_ANAGRPMAX, v); }

    public static int nanagrpid(MemorySegment s) { return s.get(U32, OFFSET_NANAGRPID); }
    public static void nanagrpid(MemorySegment s, int v) { s.set(U32, OFFSET_NANAGRPID, v); }

    public static int pels(MemorySegment s) { return s.get(U32, OFFSET_PELS); }
    public static void pels(MemorySegment s, int v) { s.set(U32, OFFSET_PELS, v); }

    public static int sqes(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_SQES)); }
    public static void sqes(MemorySegment s, int v) { s.set(U8, OFFSET_SQES, (byte) v); }

    public static int cqes(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CQES)); }
    public static void cqes(MemorySegment s, int v) { s.set(U8, OFFSET_CQES, (byte) v); }

    // the host clamps its queue size to MAXCMD - 1, so 0 breaks the connect
    public static int maxcmd(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_MAXCMD)); }
    public static void maxcmd(MemorySegment s, int v) { s.set(U16, OFFSET_MAXCMD, (short) v); }

    public static int nn(MemorySegment s) { return s.get(U32, OFFSET_NN); }
    public static void nn(MemorySegment s, int v) { s.set(U32, OFFSET_NN, v); }

    public static int oncs(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_ONCS)); }
    public static void oncs(MemorySegment s, int v) { s.set(U16, OFFSET_ONCS, (short) v); }

    public static int fuses(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_FUSES)); }
    public static void fuses(MemorySegment s, int v) { s.set(U16, OFFSET_FUSES, (short) v); }

    public static int fna(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_FNA)); }
    public static void fna(MemorySegment s, int v) { s.set(U8, OFFSET_FNA, (byte) v); }

    // bit 0 clear: the host sends neither Flush nor FUA
    public static int vwc(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_VWC)); }
    public static void vwc(MemorySegment s, int v) { s.set(U8, OFFSET_VWC, (byte) v); }

    public static int awun(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_AWUN)); }
    public static void awun(MemorySegment s, int v) { s.set(U16, OFFSET_AWUN, (short) v); }

    public static int awupf(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_AWUPF)); }
    public static void awupf(MemorySegment s, int v) { s.set(U16, OFFSET_AWUPF, (short) v); }

    public static int icsvscc(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_ICSVSCC)); }
    public static void icsvscc(MemorySegment s, int v) { s.set(U8, OFFSET_ICSVSCC, (byte) v); }

    public static int nwpc(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_NWPC)); }
    public static void nwpc(MemorySegment s, int v) { s.set(U8, OFFSET_NWPC, (byte) v); }

    public static int acwu(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_ACWU)); }
    public static void acwu(MemorySegment s, int v) { s.set(U16, OFFSET_ACWU, (short) v); }

    public static int ocfs(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_OCFS)); }
    public static void ocfs(MemorySegment s, int v) { s.set(U16, OFFSET_OCFS, (short) v); }

    public static int sgls(MemorySegment s) { return s.get(U32, OFFSET_SGLS); }
    public static void sgls(MemorySegment s, int v) { s.set(U32, OFFSET_SGLS, v); }

    public static int mnan(MemorySegment s) { return s.get(U32, OFFSET_MNAN); }
    public static void mnan(MemorySegment s, int v) { s.set(U32, OFFSET_MNAN, v); }

    public static String subnqn(MemorySegment s) { return Wire.getString(s, OFFSET_SUBNQN, LENGTH_SUBNQN); }
    public static void subnqn(MemorySegment s, String v) { Wire.setString(s, OFFSET_SUBNQN, LENGTH_SUBNQN, v, (byte) 0); }

    // 16-byte units; in-capsule data on I/O queues = IOCCSZ x 16 - 64
    public static long ioccsz(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_IOCCSZ)); }
    public static void ioccsz(MemorySegment s, long v) { s.set(U32, OFFSET_IOCCSZ, (int) v); }

    public static long iorcsz(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_IORCSZ)); }
    public static void iorcsz(MemorySegment s, long v) { s.set(U32, OFFSET_IORCSZ, (int) v); }

    // Linux hosts refuse anything but 0
    public static int icdoff(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_ICDOFF)); }
    public static void icdoff(MemorySegment s, int v) { s.set(U16, OFFSET_ICDOFF, (short) v); }

    public static int ctrattr(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CTRATTR)); }
    public static void ctrattr(MemorySegment s, int v) { s.set(U8, OFFSET_CTRATTR, (byte) v); }

    public static int msdbd(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_MSDBD)); }
    public static void msdbd(MemorySegment s, int v) { s.set(U8, OFFSET_MSDBD, (byte) v); }

    public static int ofcs(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_OFCS)); }
    public static void ofcs(MemorySegment s, int v) { s.set(U16, OFFSET_OFCS, (short) v); }

    public static int dctype(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_DCTYPE)); }
    public static void dctype(MemorySegment s, int v) { s.set(U8, OFFSET_DCTYPE, (byte) v); }

    public static MemorySegment psd(MemorySegment s) { return s.asSlice(OFFSET_PSD, LENGTH_PSD); }

    public static MemorySegment vendorSpecific(MemorySegment s) { return s.asSlice(OFFSET_VENDOR_SPECIFIC, LENGTH_VENDOR_SPECIFIC); }

    /** Power state descriptor {@code i} (PSD0 at 2048), 32 bytes. */
    public static MemorySegment psd(MemorySegment s, int i) {
        return s.asSlice(OFFSET_PSD + (long) java.util.Objects.checkIndex(i, PSD_COUNT) * PSD_SIZE, PSD_SIZE);
    }
}
