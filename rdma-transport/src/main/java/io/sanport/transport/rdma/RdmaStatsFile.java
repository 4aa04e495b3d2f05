package io.sanport.transport.rdma;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The transport's counters written as key=value lines to the file {@value #ENV} names (read by the VM tests after
 * I/O, and by ops), replaced atomically at most once a second and at the end. Conductor thread only.
 */
final class RdmaStatsFile {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");
    /** The environment variable naming a file the transport's counters are written to. */
    static final String ENV = "SANPORT_RDMA_STATS";
    private static final long PERIOD_NANOS = 1_000_000_000L;

    private final RdmaStats stats;
    private final Path file;
    private long next = System.nanoTime();

    RdmaStatsFile(RdmaStats stats, Path file) {
        this.stats = stats;
        this.file = file;
    }

    /** The file {@value #ENV} names, or one that writes nothing. */
    static RdmaStatsFile fromEnvironment(RdmaStats stats) {
        String f = System.getenv(ENV);
        return new RdmaStatsFile(stats, f == null || f.isBlank() ? null : Path.of(f));
    }

    /** Writes when a period has passed since the last periodic write. */
    void tick() {
        if (file != null && System.nanoTime() - next >= 0) {
            write();
            next = System.nanoTime() + PERIOD_NANOS;
        }
    }

    void write() {
        if (file == null) {
            return;
        }
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, stats.toString().replace(' ', '\n') + "\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "writing " + file + ": " + e.getMessage());
        }
    }
}
