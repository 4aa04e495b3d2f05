package io.sanport.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RdmaDevicesTest {
    @Test
    void listsDevicesFromSysfs(@TempDir Path sysfs) throws Exception {
        assertEquals(List.of(), RdmaDevices.list(sysfs.resolve("absent")));
        Files.createDirectory(sysfs.resolve("rxe0"));
        Files.createDirectory(sysfs.resolve("mlx5_0"));
        assertEquals(List.of("mlx5_0", "rxe0"), RdmaDevices.list(sysfs));
    }

    @Test
    void missingDeviceSaysHowToCreateSoftRoce() {
        String m = RdmaDevices.missingMessage(false);
        assertTrue(m.contains("modprobe rdma_rxe; rdma link add rxe0 type rxe netdev IFACE"), m);
        assertTrue(m.contains("no RDMA support loaded"), m);
    }
}
