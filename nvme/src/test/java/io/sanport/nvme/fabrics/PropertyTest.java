package io.sanport.nvme.fabrics;

import org.junit.jupiter.api.Test;

import static io.sanport.nvme.fabrics.Property.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §2.3 (offsets, CAP/CC/CSTS bits, the Linux 6.1 enable/shutdown values). */
class PropertyTest {
    @Test
    void offsets() {
        assertEquals(0x00, CAP);
        assertEquals(0x08, VS);
        assertEquals(0x0C, INTMS);
        assertEquals(0x10, INTMC);
        assertEquals(0x14, CC);
        assertEquals(0x1C, CSTS);
        assertEquals(0x20, NSSR);
        assertEquals(0x68, CRTO);
        assertEquals(8, size(CAP));
        assertEquals(4, size(CSTS));
        assertEquals(0, size(0x04));
    }

    @Test
    void linuxEnableAndShutdownValues() {
        int cc = 6 << CC_IOSQES_SHIFT | 4 << CC_IOCQES_SHIFT;
        assertEquals(0x00460000, cc);
        assertEquals(0x00460060, cc | CC_CSS_CSI);
        assertEquals(0x00460001, cc | CC_EN);
        assertEquals(0x00464001, cc | CC_EN | CC_SHN_NORMAL);
        assertEquals(6, ccIosqes(0x00464001));
        assertEquals(4, ccIocqes(0x00464001));
        assertEquals(1, ccShn(0x00464001));
        assertEquals(6, ccCss(0x00460060));
        assertEquals(0, ccMps(0x00460001));
        assertEquals(0, ccAms(0x00460001));
        assertEquals(0x0780, CC_MPS_MASK);
        assertEquals(0x3800, CC_AMS_MASK);
        assertEquals(1 << 24, CC_CRIME);

        assertEquals(1, CSTS_RDY);
        assertEquals(2, CSTS_CFS);
        assertEquals(0x8, CSTS_SHST_COMPLETE);
        assertEquals(2, cstsShst(CSTS_SHST_COMPLETE | CSTS_RDY));
        assertEquals(1, cstsShst(CSTS_SHST_OCCURRING));
        assertEquals(0x10, CSTS_NSSRO);
        assertEquals(0x20, CSTS_PP);
    }

    @Test
    void capFields() {
        long cap = 1023 | 15L << CAP_TO_SHIFT | CAP_CSS_NVM;
        assertEquals(1023, capMqes(cap));
        assertEquals(15, capTo(cap));
        assertEquals(0, capMpsmin(cap));
        assertEquals(0x0000_0020_0F00_03FFL, cap);
        assertEquals(1L << 43, CAP_CSS_CSI);
        assertEquals(1L << 59, CAP_CRWMS);
        assertEquals(1L << 60, CAP_CRIMS);
        assertEquals(1L << 36, CAP_NSSRS);
        assertEquals(4, capMpsmax(4L << CAP_MPSMAX_SHIFT));
        assertEquals(0x0000_000F_0000_0000L, CAP_DSTRD_MASK);
    }

    @Test
    void versions() {
        assertEquals(0x00010300, VS_1_3);
        assertEquals(0x00020000, VS_2_0);
        assertEquals(0x4E564D65, NSSR_RESET);
    }
}
