package io.sanport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** `sanport export` in a child JVM, stopped with SIGTERM: a clean stop is exit 0 (not the JVM's 143). */
class TargetRunnerTest {

    @Test
    @Timeout(120)
    void sigtermStopsTheTargetWithExitZero() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "export",
                "--device", "ram:16M", "--address", "127.0.0.1", "--port", "0", "--discovery-port", "0",
                "--reactors", "1", "--nqn", "nqn.2026-11.io.sanport:runner-test", "--no-control-socket"))
                .redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (line.startsWith("serving")) {
                    p.toHandle().destroy();   // SIGTERM (Process.destroy would also close our end of the pipe)
                }
            }
        } finally {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        assertEquals(0, p.exitValue(), out.toString());
        assertTrue(out.toString().contains("\nstopped\n"), out.toString());
    }

    /**
     * A target whose close fails on SIGTERM (a flush at shutdown failed): exit 1, and both what it logged while
     * closing and the failure with its causes reach stderr. JUL's shutdown hook used to drop the first, and the
     * runner's halt raced the second.
     */
    @Test
    @Timeout(120)
    void aFailedCloseOnSigtermIsReportedAndExitsOne() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                ShutdownFailureMain.class.getName())).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (line.startsWith("serving")) {
                    p.toHandle().destroy();
                }
            }
        } finally {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        String text = out.toString();
        assertEquals(1, p.exitValue(), text);
        assertTrue(text.contains("sanport severe: namespace 1 (/dev/test) refused writes since a flush failed"), text);
        assertTrue(text.contains("sanport: error: shutting the target down"), text);
        assertTrue(text.contains("flush at shutdown on reactor-0: flush failed on /dev/test: EIO"), text);
        assertTrue(!text.contains("\nstopped\n"), text);
    }
}
