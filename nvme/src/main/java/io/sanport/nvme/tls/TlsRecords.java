package io.sanport.nvme.tls;

import java.io.IOException;
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

    /** TCP_ULP "tls" on one socket: null when attached, else why this kernel has no TLS for it. */
    @FunctionalInterface
    public interface KernelAttach {
        /** Throws for the connection's own faults (the peer left, ...), not for the kernel's lack of TLS. */
        String attach() throws IOException;
    }

    /** Both directions' traffic keys into the socket's kernel TLS, after {@link KernelAttach#attach}. */
    @FunctionalInterface
    public interface KernelInstall {
        void install(TlsSession.TrafficKeys keys) throws IOException;
    }

    /**
     * Hands {@code session}'s records to the kernel unless this choice is {@link #JAVA}: {@code attach}, then
     * {@code install} both keys (the session's secrets are destroyed either way once keys were asked for).
     * False when Java's relay is to carry the records. Throws when {@link #KERNEL} is demanded and missing, or
     * when the kernel refused the keys after taking the ULP (the socket is then neither plain nor TLS).
     * The target's and the client's sockets both come here; the bindings' KernelTls says what an errno means.
     */
    public boolean toKernel(TlsSession session, KernelAttach attach, KernelInstall install) throws IOException {
        if (this == JAVA) {
            return false;
        }
        String missing = attach.attach();
        if (missing != null) {
            kernelUnavailable(missing);
            return false;
        }
        try (TlsSession.TrafficKeys k = session.trafficKeys()) {
            install.install(k);
        } finally {
            session.destroySecrets();
        }
        return true;
    }

    /**
     * The kernel cannot take the records ({@code why}): under {@code kernel} that fails the connection; under
     * {@code auto} the relay takes them, said once per process.
     */
    public void kernelUnavailable(String why) throws IOException {
        if (this == KERNEL) {
            throw new IOException("kTLS not available (-D" + PROPERTY + "=kernel demands it): " + why);
        }
        if (TOLD.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, "kTLS not available: " + why + "; TLS records handled in Java");
        }
    }
}
