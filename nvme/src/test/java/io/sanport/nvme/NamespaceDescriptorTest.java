package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.NamespaceDescriptor.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Expected values: nvmeof.md §3.5 (NS Identification Descriptor list). */
class NamespaceDescriptorTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(4, SIZE);
        assertEquals(0, OFFSET_NIDT);
        assertEquals(1, OFFSET_NIDL);
        assertEquals(4, OFFSET_NID);
        assertEquals(0x01, NIDT_EUI64);
        assertEquals(0x02, NIDT_NGUID);
        assertEquals(0x03, NIDT_UUID);
        assertEquals(0x04, NIDT_CSI);
        assertEquals(8, lengthOf(NIDT_EUI64));
        assertEquals(16, lengthOf(NIDT_NGUID));
        assertEquals(16, lengthOf(NIDT_UUID));
        assertEquals(1, lengthOf(NIDT_CSI));
        assertEquals(-1, lengthOf(5));
    }

    @Test
    void buildsAList() {
        MemorySegment list = misaligned(LIST_SIZE);
        MemorySegment nguid = misaligned(16);
        nguid.fill((byte) 0x11);
        MemorySegment csi = misaligned(1);
        long next = put(list, 0, NIDT_NGUID, nguid);
        assertEquals(20, next);
        next = put(list, next, NIDT_CSI, csi);
        assertEquals(25, next);
        assertBytes("02100000" + "11111111111111111111111111111111" + "04010000" + "00" + "0000", list, 0);
        assertEquals(NIDT_NGUID, nidt(list));
        assertEquals(16, nidl(list));
        assertEquals(NIDT_CSI, nidtAt(list, 20));
        assertEquals(0, nidlAt(list, 25));
        assertThrows(IllegalArgumentException.class, () -> put(list, 0, NIDT_EUI64, nguid));
    }
}
