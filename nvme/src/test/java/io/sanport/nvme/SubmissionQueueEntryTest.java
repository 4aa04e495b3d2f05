package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.SubmissionQueueEntry.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Expected offsets: nvmeof.md §1.1 and §4 (Linux nvme_common_command / nvme_rw_command). */
class SubmissionQueueEntryTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(64, SIZE);
        assertEquals(0, OFFSET_OPCODE);
        assertEquals(1, OFFSET_FLAGS);
        assertEquals(2, OFFSET_CID);
        assertEquals(4, OFFSET_NSID);
        assertEquals(8, OFFSET_CDW2);
        assertEquals(12, OFFSET_CDW3);
        assertEquals(16, OFFSET_MPTR);
        assertEquals(24, OFFSET_DPTR);
        assertEquals(40, OFFSET_CDW10);
        assertEquals(44, OFFSET_CDW11);
        assertEquals(48, OFFSET_CDW12);
        assertEquals(52, OFFSET_CDW13);
        assertEquals(56, OFFSET_CDW14);
        assertEquals(60, OFFSET_CDW15);
        assertEquals(40, OFFSET_SLBA);
        assertEquals(48, OFFSET_NLB);
        assertEquals(50, OFFSET_CONTROL);
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        opcode(s, 0x81);
        flags(s, PSDT_SGL_MPTR_CONTIG);
        cid(s, 0xF01F);
        nsid(s, NSID_ALL);
        cdw2(s, 0x22222222);
        cdw3(s, 0x33333333);
        mptr(s, 0x1122334455667788L);
        cdw10(s, 0xA);
        cdw11(s, 0xB);
        cdw12(s, 0xC);
        cdw13(s, 0xD);
        cdw14(s, 0xE);
        cdw15(s, 0xF);
        assertEquals(0x81, opcode(s));
        assertEquals(0x40, flags(s));
        assertEquals(0xF01F, cid(s));
        assertEquals(0xFFFFFFFF, nsid(s));
        assertEquals(0x22222222, cdw2(s));
        assertEquals(0x33333333, cdw3(s));
        assertEquals(0x1122334455667788L, mptr(s));
        assertEquals(0xA, cdw10(s));
        assertEquals(0xF, cdw15(s));
        assertBytes("8140" + "1ff0" + "ffffffff", s, 0);
        assertBytes("8877665544332211", s, 16);
        assertBytes("0a000000", s, 40);
    }

    @Test
    void readWriteView() {
        MemorySegment s = misaligned(SIZE);
        opcode(s, IoOpcode.WRITE);
        slba(s, 0x0000_0123_4567_89ABL);
        nlb(s, 0xFFFF);
        fua(s, true);
        assertEquals(0x0000_0123_4567_89ABL, slba(s));
        assertEquals(0x456789AB, cdw10(s));
        assertEquals(0x0123, cdw11(s));
        assertEquals(0xFFFF, nlb(s));
        assertEquals(MAX_BLOCKS, blocks(s));
        assertTrue(fua(s));
        assertEquals(CDW12_FUA >>> 16, control(s));
        assertEquals(0x4000FFFF, cdw12(s));
        // FUA is bit 14 of the control word at bytes 50-51
        assertBytes("ffff0040", s, 48);
        fua(s, false);
        assertFalse(fua(s));
        assertEquals(0xFFFF, nlb(s));
    }

    @Test
    void adminViews() {
        MemorySegment s = misaligned(SIZE);
        cdw10(s, 0x0010_0001);          // Identify CNS 1, CNTID 0x10
        cdw11(s, 0x0200_0000);          // CSI 2
        assertEquals(IdentifyCns.CTRL, cns(s));
        assertEquals(0x10, cntid(s));
        assertEquals(IdentifyCns.CSI_ZNS, identifyCsi(s));

        // Get Log Page discovery, 1024 bytes, RAE: what libnvme 1.3 sends first
        cdw10(s, 0);
        cdw11(s, 0);
        s.set(Wire.U8, OFFSET_CDW10, (byte) LogPageId.DISCOVERY);
        cdw10(s, cdw10(s) | LOG_RAE);
        logPageLength(s, 1024);
        assertEquals(0x00FF8070, cdw10(s));
        assertEquals(LogPageId.DISCOVERY, logPageId(s));
        assertTrue(retainAsyncEvent(s));
        assertEquals(1024, logPageLength(s));
        logPageLength(s, 1L << 20);     // NUMD spills into NUMDU
        assertEquals(0x0003, cdw11(s) & 0xFFFF);
        assertEquals(1L << 20, logPageLength(s));

        cdw10(s, FEATURES_SV | 0x200 | FeatureId.NUM_QUEUES);
        assertEquals(FeatureId.NUM_QUEUES, featureId(s));
        assertEquals(FeatureId.SEL_SAVED, featureSelect(s));

        cdw10(s, 0xFF);
        assertEquals(256, dsmRanges(s));
    }
}
