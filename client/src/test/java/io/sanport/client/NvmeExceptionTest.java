package io.sanport.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.nvme.Status;
import org.junit.jupiter.api.Test;

class NvmeExceptionTest {
    @Test
    void pathRelatedStatusesSayAnotherPathMayServe() {
        NvmeException e = new NvmeException("Read", Status.word(Status.ANA_INACCESSIBLE), 0);
        assertTrue(e.pathError());
        assertEquals(Status.ANA_INACCESSIBLE, e.statusCode());
        assertTrue(e.getMessage().contains("Asymmetric Access Inaccessible (sct 0x3 sc 0x02)"), e.getMessage());
        assertTrue(e.getMessage().contains("another path"), e.getMessage());
        assertFalse(Status.dnr(e.statusWord()), "path errors carry no DNR");
        NvmeException t = new NvmeException("Write", Status.word(Status.ANA_TRANSITION), 0);
        assertTrue(t.pathError() && t.getMessage().contains("Asymmetric Access Transition"), t.getMessage());
        NvmeException media = new NvmeException("Read", Status.word(Status.READ_ERROR), 0);
        assertFalse(media.pathError());
        assertFalse(media.getMessage().contains("another path"), media.getMessage());
    }
}
