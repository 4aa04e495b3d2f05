package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.IdentifyController.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected offsets: nvmeof.md §3.4; the fields it does not list from libnvme 1.3 nvme_id_ctrl. */
class IdentifyControllerTest {
    @Test
    void sizeAndFactSheetOffsets() {
        assertEquals(4096, SIZE);
        assertEquals(0, OFFSET_VID);
        assertEquals(2, OFFSET_SSVID);
        assertEquals(4, OFFSET_SN);
        assertEquals(20, LENGTH_SN);
        assertEquals(24, OFFSET_MN);
        assertEquals(40, LENGTH_MN);
        assertEquals(64, OFFSET_FR);
        assertEquals(8, LENGTH_FR);
        assertEquals(72, OFFSET_RAB);
        assertEquals(76, OFFSET_CMIC);
        assertEquals(77, OFFSET_MDTS);
        assertEquals(78, OFFSET_CNTLID);
        assertEquals(80, OFFSET_VER);
        assertEquals(88, OFFSET_RTD3E);
        assertEquals(92, OFFSET_OAES);
        assertEquals(96, OFFSET_CTRATT);
        assertEquals(111, OFFSET_CNTRLTYPE);
        assertEquals(128, OFFSET_CRDT1);
        assertEquals(130, OFFSET_CRDT2);
        assertEquals(132, OFFSET_CRDT3);
        assertEquals(256, OFFSET_OACS);
        assertEquals(258, OFFSET_ACL);
        assertEquals(259, OFFSET_AERL);
        assertEquals(261, OFFSET_LPA);
        assertEquals(262, OFFSET_ELPE);
        assertEquals(263, OFFSET_NPSS);
        assertEquals(265, OFFSET_APSTA);
        assertEquals(266, OFFSET_WCTEMP);
        assertEquals(268, OFFSET_CCTEMP);
        assertEquals(320, OFFSET_KAS);
        assertEquals(342, OFFSET_ANATT);
        assertEquals(343, OFFSET_ANACAP);
        assertEquals(344, OFFSET_ANAGRPMAX);
        assertEquals(348, OFFSET_NANAGRPID);
        assertEquals(512, OFFSET_SQES);
        assertEquals(513, OFFSET_CQES);
        assertEquals(514, OFFSET_MAXCMD);
        assertEquals(516, OFFSET_NN);
        assertEquals(520, OFFSET_ONCS);
        assertEquals(522, OFFSET_FUSES);
        assertEquals(525, OFFSET_VWC);
        assertEquals(526, OFFSET_AWUN);
        assertEquals(528, OFFSET_AWUPF);
        assertEquals(536, OFFSET_SGLS);
        assertEquals(540, OFFSET_MNAN);
        assertEquals(768, OFFSET_SUBNQN);
        assertEquals(256, LENGTH_SUBNQN);
        assertEquals(1792, OFFSET_IOCCSZ);
        assertEquals(1796, OFFSET_IORCSZ);
        assertEquals(1800, OFFSET_ICDOFF);
        assertEquals(1802, OFFSET_CTRATTR);
        assertEquals(1803, OFFSET_MSDBD);
        assertEquals(1806, OFFSET_DCTYPE);
        assertEquals(2048, OFFSET_PSD);
    }

    @Test
    void otherOffsetsFromLibnvme() {
        assertEquals(73, OFFSET_IEEE);
        assertEquals(84, OFFSET_RTD3R);
        assertEquals(100, OFFSET_RRLS);
        assertEquals(112, OFFSET_FGUID);
        assertEquals(253, OFFSET_NVMSR);
        assertEquals(254, OFFSET_VWCI);
        assertEquals(255, OFFSET_MEC);
        assertEquals(260, OFFSET_FRMW);
        assertEquals(264, OFFSET_AVSCC);
        assertEquals(270, OFFSET_MTFA);
        assertEquals(272, OFFSET_HMPRE);
        assertEquals(276, OFFSET_HMMIN);
        assertEquals(280, OFFSET_TNVMCAP);
        assertEquals(296, OFFSET_UNVMCAP);
        assertEquals(312, OFFSET_RPMBS);
        assertEquals(316, OFFSET_EDSTT);
        assertEquals(318, OFFSET_DSTO);
        assertEquals(319, OFFSET_FWUG);
        assertEquals(322, OFFSET_HCTMA);
        assertEquals(324, OFFSET_MNTMT);
        assertEquals(326, OFFSET_MXTMT);
        assertEquals(328, OFFSET_SANICAP);
        assertEquals(332, OFFSET_HMMINDS);
        assertEquals(336, OFFSET_HMMAXD);
        assertEquals(338, OFFSET_NSETIDMAX);
        assertEquals(340, OFFSET_ENDGIDMAX);
        assertEquals(352, OFFSET_PELS);
        assertEquals(524, OFFSET_FNA);
        assertEquals(530, OFFSET_ICSVSCC);
        assertEquals(531, OFFSET_NWPC);
        assertEquals(532, OFFSET_ACWU);
        assertEquals(534, OFFSET_OCFS);
        assertEquals(1804, OFFSET_OFCS);
        assertEquals(3072, OFFSET_VENDOR_SPECIFIC);
    }

    @Test
    void valuesTheLinuxHostNeeds() {
        // nvmeof.md §7.5
        MemorySegment s = misaligned(SIZE);
        vid(s, 0);
        sn(s, "SANPORT0001");
        mn(s, "sanport");
        fr(s, "0.1");
        cmic(s, CMIC_MULTI_PORT | CMIC_MULTI_CTRL);
        mdts(s, 5);
        cntlid(s, 0xFFEF);
        ver(s, 0x00010300);
        oaes(s, OAES_NS_ATTRIBUTE);
        ctratt(s, CTRATT_HOST_ID_128);
        cntrltype(s, CNTRLTYPE_IO);
        kas(s, 10);
        lpa(s, LPA_EXTENDED_DATA);
        sqes(s, SQES_64);
        cqes(s, CQES_16);
        maxcmd(s, 128);
        nn(s, 1);
        oncs(s, ONCS_DSM | ONCS_WRITE_ZEROES);
        vwc(s, VWC_PRESENT);
        sgls(s, SGLS_SUPPORTED | SGLS_OFFSET);
        subnqn(s, "nqn.2024-01.io.sanport:disk0");
        ioccsz(s, 516);
        iorcsz(s, 1);
        icdoff(s, 0);
        msdbd(s, 1);
        tnvmcap(s, 1L << 40);
        rtd3e(s, 0xFFFFFFFFL);

        assertEquals("SANPORT0001", sn(s));
        assertBytes("53414e504f525430303031" + "20".repeat(9), s, 4);
        assertEquals("sanport", mn(s));
        assertEquals("0.1", fr(s));
        assertEquals(0x03, cmic(s));
        assertEquals(5, mdts(s));
        assertEquals(0xFFEF, cntlid(s));
        assertEquals(0x00010300, ver(s));
        assertEquals(0x100, oaes(s));
        assertEquals(1, cntrltype(s));
        assertEquals(10, kas(s));
        assertEquals(0x04, lpa(s));
        assertEquals(0x66, sqes(s));
        assertEquals(0x44, cqes(s));
        assertEquals(128, maxcmd(s));
        assertEquals(1, nn(s));
        assertEquals(0x000C, oncs(s));
        assertEquals(1, vwc(s));
        assertEquals(0x00100001, sgls(s));
        assertEquals(0x00100005, sgls(s) | SGLS_KEYED);
        assertEquals("nqn.2024-01.io.sanport:disk0", subnqn(s));
        assertEquals(516, ioccsz(s));
        assertEquals(1, iorcsz(s));
        assertEquals(1, msdbd(s));
        assertEquals(1L << 40, tnvmcap(s));
        assertEquals(0xFFFFFFFFL, rtd3e(s));
        assertBytes("0a00", s, 320);
        assertBytes("04020000", s, 1792);
        assertEquals(32, psd(s, 1).byteSize());
        assertEquals(2048 + 32, psd(s, 1).address() - s.address());
    }
}
