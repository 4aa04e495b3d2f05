package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.IdentifyNamespace.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Expected offsets: nvmeof.md §3.5; the fields it does not list from Linux 6.1 / libnvme nvme_id_ns. */
class IdentifyNamespaceTest {
    @Test
    void sizeAndFactSheetOffsets() {
        assertEquals(4096, SIZE);
        assertEquals(0, OFFSET_NSZE);
        assertEquals(8, OFFSET_NCAP);
        assertEquals(16, OFFSET_NUSE);
        assertEquals(24, OFFSET_NSFEAT);
        assertEquals(25, OFFSET_NLBAF);
        assertEquals(26, OFFSET_FLBAS);
        assertEquals(27, OFFSET_MC);
        assertEquals(28, OFFSET_DPC);
        assertEquals(29, OFFSET_DPS);
        assertEquals(30, OFFSET_NMIC);
        assertEquals(36, OFFSET_NAWUPF);
        assertEquals(42, OFFSET_NABO);
        assertEquals(46, OFFSET_NOIOB);
        assertEquals(64, OFFSET_NPWG);
        assertEquals(72, OFFSET_NOWS);
        assertEquals(92, OFFSET_ANAGRPID);
        assertEquals(99, OFFSET_NSATTR);
        assertEquals(104, OFFSET_NGUID);
        assertEquals(16, LENGTH_NGUID);
        assertEquals(120, OFFSET_EUI64);
        assertEquals(8, LENGTH_EUI64);
        assertEquals(128, OFFSET_LBAF);
        assertEquals(128, OFFSET_LBAF_MS);
        assertEquals(130, OFFSET_LBAF_LBADS);
        assertEquals(131, OFFSET_LBAF_RP);
        assertEquals(64, LBAF_COUNT);
    }

    @Test
    void otherOffsets() {
        assertEquals(31, OFFSET_RESCAP);
        assertEquals(32, OFFSET_FPI);
        assertEquals(33, OFFSET_DLFEAT);
        assertEquals(34, OFFSET_NAWUN);
        assertEquals(38, OFFSET_NACWU);
        assertEquals(40, OFFSET_NABSN);
        assertEquals(44, OFFSET_NABSPF);
        assertEquals(48, OFFSET_NVMCAP);
        assertEquals(66, OFFSET_NPWA);
        assertEquals(68, OFFSET_NPDG);
        assertEquals(70, OFFSET_NPDA);
        assertEquals(74, OFFSET_MSSRL);
        assertEquals(76, OFFSET_MCL);
        assertEquals(80, OFFSET_MSRC);
        assertEquals(100, OFFSET_NVMSETID);
        assertEquals(102, OFFSET_ENDGID);
        assertEquals(384, OFFSET_VENDOR_SPECIFIC);
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        nsze(s, 2097152);
        ncap(s, 2097152);
        nuse(s, 2097152);
        nsfeat(s, NSFEAT_IO_OPT);
        nlbaf(s, 1);
        flbas(s, 1);
        nmic(s, NMIC_SHARED);
        npwg(s, 7);
        nows(s, 0xFFFF);
        anagrpid(s, 1);
        nguid(s).fill((byte) 0xAB);
        lbafLbads(s, 0, 9);
        lbafLbads(s, 1, 12);
        lbafMs(s, 1, 8);
        lbafRp(s, 1, 2);
        lbafLbads(s, 63, 12);

        assertEquals(2097152, nsze(s));
        assertEquals(NSFEAT_IO_OPT, nsfeat(s));
        assertEquals(1, nlbaf(s));
        assertEquals(1, formatIndex(flbas(s)));
        assertEquals(7, npwg(s));
        assertEquals(0xFFFF, nows(s));
        assertEquals(9, lbafLbads(s, 0));
        assertEquals(12, lbafLbads(s, 1));
        assertEquals(8, lbafMs(s, 1));
        assertEquals(2, lbafRp(s, 1));
        assertBytes("0000200000000000", s, 0);
        assertBytes("00000900" + "08000c02", s, 128);
        assertBytes("00000c00", s, 128 + 63 * 4);
        assertBytes("abababababababababababababababab", s, 104);
        assertThrows(IndexOutOfBoundsException.class, () -> lbafLbads(s, 64));
    }

    @Test
    void formatIndexUsesUpperBits() {
        assertEquals(0, formatIndex(FLBAS_EXTENDED));
        assertEquals(0x3F, formatIndex(0x6F));
        assertEquals(0x12, formatIndex(0x22));
    }
}
