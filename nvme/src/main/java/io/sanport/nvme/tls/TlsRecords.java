package io.sanport.nvme.tls;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Who handles an established session's records, chosen by the system property {@value #PROPERTY}:
 * {@code auto} (the default: the kernel's TLS, kTLS, where it has it, else Java's {@link TlsRelay}),
 * {@code kernel} (kTLS or the connection fails) or {@code java} (always the relay).
 */
public enum TlsRecords {
    AUTO, KERNEL, JAVA;

    public static final String PROPERTY = "sanport.tls.records";
    private static final System.Logger LOG = System.getLogger("sanport.tls");
    private static final AtomicBoolean TOLD = new AtomicBoolean();

    /** The configured choice, read at each connection (so a test can change it). */
    public static TlsRecords configured() {
        String v = System.getProperty(PROPERTY, "auto").strip().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "auto" -> AUTO;
            case "kernel" -> KERNEL;
            case "java" -> JAVA;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + v
                    + ": expected auto, kernel or java");
        };
    }

    /**
     * The kernel cannot take the records ({@code why}): under {@code kernel} that fails the connection; under
     * {@code auto} the relay takes them, said once per process.
     */
    public void kernelUnavailable(String why) throws java.io.IOException {
        if (this == KERNEL) {
            throw new java.io.IOException("kTLS not available (-D" + PROPERTY + "=kernel demands it): " + why);
        }
        if (TOLD.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, "kTLS not available: " + why + "; TLS records handled in Java");
        }
    }
}
