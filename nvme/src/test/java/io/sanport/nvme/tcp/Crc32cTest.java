package io.sanport.nvme.tcp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Known CRC-32C vectors: "123456789" -> E3069283 (RFC 3720 check value), 32 zero bytes -> 8A9136AA (RFC 3720 B.4). */
class Crc32cTest {
    private final Crc32c crc = new Crc32c();

    @Test
    void knownVectors() {
        MemorySegment s = misaligned(64);
        MemorySegment.copy("123456789".getBytes(StandardCharsets.US_ASCII), 0, s, ValueLayout.JAVA_BYTE, 3, 9);
        assertEquals(0xE3069283, crc.digest(s, 3, 9));
        assertEquals(0x8A9136AA, crc.digest(s, 20, 32));
    }

    @Test
    void heapSegmentsWork() {
        MemorySegment heap = MemorySegment.ofArray("123456789".getBytes(StandardCharsets.US_ASCII));
        assertEquals(0xE3069283, crc.digest(heap, 0, 9));
    }

    @Test
    void digestIsWrittenLittleEndianAfterTheHeader() {
        MemorySegment pdu = misaligned(CapsuleResponse.HLEN + PduHeader.DIGEST_LENGTH);
        PduHeader.set(pdu, PduHeader.TYPE_CAPSULE_RESP, PduHeader.FLAG_HDGSTF, 24, 0, 28);
        int digest = crc.put(pdu, 0, CapsuleResponse.HLEN);
        assertBytes(String.format("%02x%02x%02x%02x", digest & 0xFF, digest >>> 8 & 0xFF, digest >>> 16 & 0xFF, digest >>> 24 & 0xFF),
                pdu, 24);
        assertTrue(crc.verify(pdu, 0, CapsuleResponse.HLEN));
        pdu.set(ValueLayout.JAVA_BYTE, 9, (byte) 1);
        assertFalse(crc.verify(pdu, 0, CapsuleResponse.HLEN));
    }

    @Test
    void reusableViewVariantRestoresPositionAndLimit() {
        MemorySegment s = Arena.ofAuto().allocate(64);
        MemorySegment.copy("xx123456789".getBytes(StandardCharsets.US_ASCII), 0, s, ValueLayout.JAVA_BYTE, 0, 11);
        ByteBuffer view = s.asByteBuffer();
        view.position(5).limit(40);
        assertEquals(0xE3069283, crc.digest(view, 2, 9));
        assertEquals(5, view.position());
        assertEquals(40, view.limit());
        assertEquals(crc.digest(s, 0, 64), crc.digest(view, 0, 64));
    }
}
