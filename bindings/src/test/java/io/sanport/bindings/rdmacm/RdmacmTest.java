package io.sanport.bindings.rdmacm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sanport.bindings.ErrnoException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** librdmacm on a machine without RDMA: its own names for the event constants, and a refusal in words. */
class RdmacmTest {

    @Test
    void everyEventConstantIsTheEventLibrdmacmNamesSo() throws Exception {
        assumeTrue(Rdmacm.unavailableReason() == null, Rdmacm.unavailableReason());
        int checked = 0;
        for (Field f : Rdmacm.class.getFields()) {
            if (f.getName().startsWith("RDMA_CM_EVENT_") && Modifier.isStatic(f.getModifiers())) {
                assertEquals(f.getName(), Rdmacm.rdma_event_str(f.getInt(null)));
                checked++;
            }
        }
        assertEquals(16, checked);
    }

    @Test
    void noKernelSupportIsAnErrorInWords() {
        assumeTrue(Rdmacm.unavailableReason() == null, Rdmacm.unavailableReason());
        assumeTrue(!Files.exists(Path.of("/dev/infiniband/rdma_cm")), "this machine has RDMA CM");
        ErrnoException e = assertThrows(ErrnoException.class, Rdmacm::rdma_create_event_channel);
        assertTrue(e.getMessage().startsWith("rdma_create_event_channel: "), e.getMessage());
        assertTrue(e.getMessage().contains("modprobe rdma_ucm"), e.getMessage());
    }
}
