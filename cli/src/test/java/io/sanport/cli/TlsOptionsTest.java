package io.sanport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.nvme.tls.TlsKey;
import org.junit.jupiter.api.Test;

/** --tls-key-derivation: offered wherever --tls-key is, explained in --help, bad values refused by name. */
class TlsOptionsTest {
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";

    @Test
    void helpExplainsTheDerivations() {
        for (String[] cmd : new String[][] {{"discover", "--help"}, {"bench", "remote", "--help"}, {"export", "--help"}}) {
            ControlCommandsTest.Result r = ControlCommandsTest.run(cmd);
            assertEquals(0, r.code(), r.err());
            String help = r.out().replaceAll("\\s+", " ");
            assertTrue(help.contains("--tls-key-derivation=compat|rfc8446"), r.out());
            assertTrue(help.contains("before 2.16") && help.contains("2.16 and later"), r.out());
        }
    }

    @Test
    void badValuesAreRefused() {
        String key = TlsKey.format(1, new byte[32]);
        ControlCommandsTest.Result r = ControlCommandsTest.run("export", "--device", "ram:1M", "--discovery-port", "0",
                "--port", "0", "--allow-host", HOST, "--tls-key", key, "--tls-key-derivation", "rfc5869");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--tls-key-derivation") && r.err().contains("rfc8446"), r.err());
        assertFalse((r.out() + r.err()).contains(key.substring(16, 40)), r.err());
        r = ControlCommandsTest.run("discover", "-a", "127.0.0.1", "-s", "1", "--tls-key", key,
                "--tls-key-derivation", "tls13");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--tls-key-derivation"), r.err());
        r = ControlCommandsTest.run("discover", "-a", "127.0.0.1", "-s", "1", "--tls-key-derivation", "rfc8446");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("needs --tls-key"), r.err());
    }

    /** A bad -Dsanport.tls.records is refused when TLS is configured, before any connection, naming the choices. */
    @Test
    void aBadRecordLayerIsRefusedAtStart() {
        String key = TlsKey.format(1, new byte[32]);
        String before = System.getProperty("sanport.tls.records");
        System.setProperty("sanport.tls.records", "sideways");
        try {
            for (String[] cmd : new String[][] {
                    {"export", "--device", "ram:1M", "--discovery-port", "0", "--port", "0", "--allow-host", HOST,
                            "--tls-key", key},
                    // nothing listens on port 1: only the configuration check can fail it this way
                    {"discover", "-a", "127.0.0.1", "-s", "1", "--tls-key", key},
                    {"bench", "remote", "-a", "127.0.0.1", "-s", "1", "-n", "nqn.2014-08.io.sanport:x", "--tls-key", key}}) {
                // without the check an export would serve until stopped
                ControlCommandsTest.Result r = assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                        () -> ControlCommandsTest.run(cmd));
                assertEquals(1, r.code(), cmd[0] + ": " + r.err());
                assertTrue(r.err().contains("-Dsanport.tls.records=sideways: expected auto, kernel or java"),
                        cmd[0] + ": " + r.err());
            }
        } finally {
            if (before == null) {
                System.clearProperty("sanport.tls.records");
            } else {
                System.setProperty("sanport.tls.records", before);
            }
        }
    }
}
