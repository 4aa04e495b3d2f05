package io.sanport.nvme.fabrics;

/**
 * Controller properties reached by Property Get/Set on fabrics, NVMe Base 2.0 §3.1.3; Linux {@code NVME_REG_*},
 * {@code NVME_CAP_*}, {@code NVME_CC_*}, {@code NVME_CSTS_*}. Masks are in place; shifts are given where a field
 * holds a number.
 */
public final class Property {
    public static final int CAP = 0x00;
    public static final int VS = 0x08;
    public static final int INTMS = 0x0C;
    public static final int INTMC = 0x10;
    public static final int CC = 0x14;
    public static final int CSTS = 0x1C;
    public static final int NSSR = 0x20;
    /** Read by the host only when CAP.CRWMS is set. */
    public static final int CRTO = 0x68;

    // CAP (64-bit)
    /** 0-based maximum queue entries; must be >= 31 because the admin Connect asks for SQSIZE 31. */
    public static final long CAP_MQES_MASK = 0xFFFFL;
    public static final long CAP_CQR = 1L << 16;
    public static final int CAP_AMS_SHIFT = 17;
    public static final long CAP_AMS_MASK = 0x3L << CAP_AMS_SHIFT;
    /** Ready timeout in 500 ms units: the host waits (TO + 1) x 500 ms for CSTS.RDY. */
    public static final int CAP_TO_SHIFT = 24;
    public static final long CAP_TO_MASK = 0xFFL << CAP_TO_SHIFT;
    public static final int CAP_DSTRD_SHIFT = 32;
    public static final long CAP_DSTRD_MASK = 0xFL << CAP_DSTRD_SHIFT;
    public static final long CAP_NSSRS = 1L << 36;
    public static final int CAP_CSS_SHIFT = 37;
    public static final long CAP_CSS_MASK = 0xFFL << CAP_CSS_SHIFT;
    public static final long CAP_CSS_NVM = 1L << 37;
    /** Makes the host set CC.CSS = CSI and then require a CSI namespace descriptor: set only CAP_CSS_NVM. */
    public static final long CAP_CSS_CSI = 1L << 43;
    public static final long CAP_CSS_ADMIN_ONLY = 1L << 44;
    public static final long CAP_BPS = 1L << 45;
    /** Must be 0: the Linux host page is 4 KiB. */
    public static final int CAP_MPSMIN_SHIFT = 48;
    public static final long CAP_MPSMIN_MASK = 0xFL << CAP_MPSMIN_SHIFT;
    public static final int CAP_MPSMAX_SHIFT = 52;
    public static final long CAP_MPSMAX_MASK = 0xFL << CAP_MPSMAX_SHIFT;
    public static final long CAP_PMRS = 1L << 56;
    public static final long CAP_CMBS = 1L << 57;
    public static final long CAP_NSSS = 1L << 58;
    public static final long CAP_CRWMS = 1L << 59;
    /** Makes Linux use Identify CNS 0x08 instead of 0x00. */
    public static final long CAP_CRIMS = 1L << 60;

    // CC (32-bit)
    public static final int CC_EN = 1;
    public static final int CC_CSS_SHIFT = 4;
    public static final int CC_CSS_MASK = 0x7 << CC_CSS_SHIFT;
    public static final int CC_CSS_NVM = 0;
    public static final int CC_CSS_CSI = 6 << CC_CSS_SHIFT;
    public static final int CC_CSS_ADMIN_ONLY = 7 << CC_CSS_SHIFT;
    /** Memory page size 2^(12 + MPS). */
    public static final int CC_MPS_SHIFT = 7;
    public static final int CC_MPS_MASK = 0xF << CC_MPS_SHIFT;
    public static final int CC_AMS_SHIFT = 11;
    public static final int CC_AMS_MASK = 0x7 << CC_AMS_SHIFT;
    public static final int CC_SHN_SHIFT = 14;
    public static final int CC_SHN_MASK = 0x3 << CC_SHN_SHIFT;
    public static final int CC_SHN_NONE = 0;
    public static final int CC_SHN_NORMAL = 1 << CC_SHN_SHIFT;
    public static final int CC_SHN_ABRUPT = 2 << CC_SHN_SHIFT;
    /** log2 of the SQE size: must be 6. */
    public static final int CC_IOSQES_SHIFT = 16;
    public static final int CC_IOSQES_MASK = 0xF << CC_IOSQES_SHIFT;
    /** log2 of the CQE size: must be 4. */
    public static final int CC_IOCQES_SHIFT = 20;
    public static final int CC_IOCQES_MASK = 0xF << CC_IOCQES_SHIFT;
    public static final int CC_CRIME = 1 << 24;

    // CSTS (32-bit)
    public static final int CSTS_RDY = 1;
    /** Set instead of RDY when CC carried an unsupported value at enable (nvmet). */
    public static final int CSTS_CFS = 1 << 1;
    public static final int CSTS_SHST_SHIFT = 2;
    public static final int CSTS_SHST_MASK = 0x3 << CSTS_SHST_SHIFT;
    public static final int CSTS_SHST_NORMAL = 0;
    public static final int CSTS_SHST_OCCURRING = 1 << CSTS_SHST_SHIFT;
    public static final int CSTS_SHST_COMPLETE = 2 << CSTS_SHST_SHIFT;
    public static final int CSTS_NSSRO = 1 << 4;
    public static final int CSTS_PP = 1 << 5;
    /** What a host reads from a device that is gone. */
    public static final int CSTS_GONE = 0xFFFFFFFF;

    /** NSSR: writing "NVMe" starts an NVM subsystem reset. */
    public static final int NSSR_RESET = 0x4E564D65;

    /** VS 1.3.0, nvmet's default; the host reads VS, not Identify VER, to pick features. */
    public static final int VS_1_3 = vs(1, 3, 0);
    public static final int VS_1_4 = vs(1, 4, 0);
    public static final int VS_2_0 = vs(2, 0, 0);

    private Property() {}

    public static int vs(int major, int minor, int tertiary) {
        return (major & 0xFFFF) << 16 | (minor & 0xFF) << 8 | tertiary & 0xFF;
    }

    /** Size in bytes of a property, or 0 if the offset names none that fabrics serves. */
    public static int size(int offset) {
        return switch (offset) {
            case CAP -> 8;
            case VS, INTMS, INTMC, CC, CSTS, NSSR, CRTO -> 4;
            default -> 0;
        };
    }

    public static int capMqes(long cap) { return (int) (cap & CAP_MQES_MASK); }
    public static int capTo(long cap) { return (int) ((cap & CAP_TO_MASK) >>> CAP_TO_SHIFT); }
    public static int capMpsmin(long cap) { return (int) ((cap & CAP_MPSMIN_MASK) >>> CAP_MPSMIN_SHIFT); }
    public static int capMpsmax(long cap) { return (int) ((cap & CAP_MPSMAX_MASK) >>> CAP_MPSMAX_SHIFT); }

    public static int ccCss(int cc) { return (cc & CC_CSS_MASK) >>> CC_CSS_SHIFT; }
    public static int ccMps(int cc) { return (cc & CC_MPS_MASK) >>> CC_MPS_SHIFT; }
    public static int ccAms(int cc) { return (cc & CC_AMS_MASK) >>> CC_AMS_SHIFT; }
    public static int ccShn(int cc) { return (cc & CC_SHN_MASK) >>> CC_SHN_SHIFT; }
    public static int ccIosqes(int cc) { return (cc & CC_IOSQES_MASK) >>> CC_IOSQES_SHIFT; }
    public static int ccIocqes(int cc) { return (cc & CC_IOCQES_MASK) >>> CC_IOCQES_SHIFT; }

    public static int cstsShst(int csts) { return (csts & CSTS_SHST_MASK) >>> CSTS_SHST_SHIFT; }
}
