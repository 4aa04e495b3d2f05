package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import java.util.UUID;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WireTest {
    @Test
    void layoutsAreLittleEndianAndUnaligned() {
        MemorySegment s = misaligned(16);
        s.set(Wire.U16, 1, (short) 0x1234);
        s.set(Wire.U32, 3, 0x11223344);
        s.set(Wire.U64, 7, 0x0102030405060708L);
        assertBytes("3412" + "44332211" + "0807060504030201", s, 1);
        assertEquals(1, Wire.U32.byteAlignment());
    }

    @Test
    void stringsArePaddedAndTrimmed() {
        MemorySegment s = misaligned(20);
        Wire.setString(s, 0, 8, "ab", (byte) ' ');
        assertBytes("6162202020202020", s, 0);
        assertEquals("ab", Wire.getString(s, 0, 8));
        Wire.setString(s, 8, 8, "abcdefg", (byte) 0);
        assertBytes("6162636465666700", s, 8);
        assertEquals("abcdefg", Wire.getString(s, 8, 8));
        // a NUL-padded field must keep its terminator
        assertThrows(IllegalArgumentException.class, () -> Wire.setString(s, 8, 8, "abcdefgh", (byte) 0));
        Wire.setString(s, 0, 8, "abcdefgh", (byte) ' ');
        assertEquals("abcdefgh", Wire.getString(s, 0, 8));
    }

    @Test
    void uuidIsRawBigEndianBytes() {
        MemorySegment s = misaligned(16);
        UUID uuid = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
        Wire.setUuid(s, 0, uuid);
        assertBytes("00112233445566778899aabbccddeeff", s, 0);
        assertEquals(uuid, Wire.getUuid(s, 0));
    }
}
