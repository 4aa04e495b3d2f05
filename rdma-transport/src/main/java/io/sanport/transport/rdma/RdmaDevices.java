package io.sanport.transport.rdma;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The RDMA devices of this machine, as the kernel lists them in /sys/class/infiniband, and the words for a
 * machine that has none. The verbs path (libibverbs/librdmacm through FFM) builds on this.
 */
public final class RdmaDevices {
    static final Path SYSFS = Path.of("/sys/class/infiniband");

    private RdmaDevices() {}

    /** Device names (mlx5_0, rxe0, ...), empty when the kernel has none or no RDMA support at all. */
    public static List<String> list() {
        return list(SYSFS);
    }

    static List<String> list(Path sysfs) {
        if (!Files.isDirectory(sysfs)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(sysfs)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Throws with what to do when there is no RDMA device; used before any --transport rdma work. */
    public static void require() throws IOException {
        if (list().isEmpty()) {
            throw new IOException(missingMessage(Files.isDirectory(Path.of("/sys/module/ib_core"))));
        }
    }

    static String missingMessage(boolean kernelHasRdma) {
        return "no RDMA device on this machine (/sys/class/infiniband is empty"
                + (kernelHasRdma ? "" : "; this kernel has no RDMA support loaded") + "). "
                + "For SoftRoCE over an Ethernet interface IFACE: modprobe rdma_rxe; rdma link add rxe0 type rxe "
                + "netdev IFACE (needs a kernel with CONFIG_RDMA_RXE; Debian's stock kernel has it). "
                + "Or use --transport tcp.";
    }
}
