package io.sanport.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The NVMe/RDMA CM private data the host sends and reads (nvmeof.md §6.1), byte by byte. */
class NvmeRdmaCmDataTest {
    @Test
    void requestLayout() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment req = arena.allocate(NvmeRdmaCmData.REQ_SIZE);
            req.fill((byte) 0x55);
            NvmeRdmaCmData.encodeRequest(req, 3, 128, 127, 0x1234);
            byte[] b = req.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            assertEquals(32, b.length);
            int[] want = {0, 0, 3, 0, 128, 0, 127, 0, 0x34, 0x12};
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], b[i] & 0xFF, "byte " + i);
            }
            for (int i = want.length; i < 32; i++) {
                assertEquals(0, b[i], "reserved byte " + i);
            }
        }
    }

    @Test
    void acceptAndReject() {
        assertEquals(32, NvmeRdmaCmData.crqsize(new byte[] {0, 0, 32, 0, 0, 0, 0, 0}));
        assertEquals(-1, NvmeRdmaCmData.crqsize(new byte[0]));
        assertEquals(0x04, NvmeRdmaCmData.rejectStatus(new byte[] {0, 0, 4, 0}));
        assertEquals(-1, NvmeRdmaCmData.rejectStatus(new byte[] {0}));
        assertEquals("invalid HSQSIZE", NvmeRdmaCmData.describeReject(4));
        assertTrue(NvmeRdmaCmData.describeReject(-1).contains("no listener"));
    }
}
