package io.sanport.nvme.tls;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The one choice between the kernel's record layer and Java's relay, as the target and the client make it. */
class TlsRecordsTest {
    private static final TlsRecords.KernelInstall NEVER = k -> { throw new AssertionError("no keys expected"); };

    @Test
    void javaNeverTouchesTheKernel() throws IOException {
        AtomicInteger attaches = new AtomicInteger();
        assertFalse(TlsRecords.JAVA.toKernel(null, () -> { attaches.incrementAndGet(); return null; }, NEVER));
        assertTrue(attaches.get() == 0);
    }

    @Test
    void aKernelWithoutTlsFallsBackUnderAutoAndFailsUnderKernel() throws IOException {
        assertFalse(TlsRecords.AUTO.toKernel(null, () -> "setsockopt(TCP_ULP): no such file", NEVER));
        IOException e = assertThrows(IOException.class,
                () -> TlsRecords.KERNEL.toKernel(null, () -> "setsockopt(TCP_ULP): no such file", NEVER));
        assertTrue(e.getMessage().contains("-Dsanport.tls.records=kernel") && e.getMessage().contains("TCP_ULP"),
                e.getMessage());
    }

    @Test
    void aConnectionFaultIsNotAFallback() {
        IOException fault = new IOException("setsockopt(TCP_ULP): transport endpoint is not connected");
        for (TlsRecords r : new TlsRecords[] {TlsRecords.AUTO, TlsRecords.KERNEL}) {
            assertTrue(fault == assertThrows(IOException.class, () -> r.toKernel(null, () -> { throw fault; }, NEVER)));
        }
    }
}
