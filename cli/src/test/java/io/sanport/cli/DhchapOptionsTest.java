package io.sanport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.nvme.auth.DhchapKey;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DH-HMAC-CHAP options: named as nvme-cli names them, placeholders in --help, secrets never echoed. */
class DhchapOptionsTest {
    @TempDir
    Path dir;

    @Test
    void helpNamesTheOptionsWithPlaceholders() {
        for (String[] cmd : new String[][] {{"discover", "--help"}, {"bench", "remote", "--help"}}) {
            ControlCommandsTest.Result r = ControlCommandsTest.run(cmd);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("--dhchap-secret=DHHC-1:..|@FILE"), r.out());
            assertTrue(r.out().contains("--dhchap-ctrl-secret"), r.out());
        }
        ControlCommandsTest.Result r = ControlCommandsTest.run("export", "--help");
        assertTrue(r.out().contains("--dhchap-key=DHHC-1:..|@FILE") && r.out().contains("--dhchap-ctrl-key"), r.out());
    }

    @Test
    void aBadSecretIsRefusedWithoutBeingQuoted() throws Exception {
        String good = DhchapKey.format(new byte[32], 1);
        String bad = good.substring(0, 20) + (good.charAt(20) == 'A' ? 'B' : 'A') + good.substring(21);
        ControlCommandsTest.Result r = ControlCommandsTest.run("export", "--device", "ram:1M", "--discovery-port", "0",
                "--port", "0", "--allow-host", "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001",
                "--dhchap-key", bad);
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("CRC mismatch"), r.err());
        assertFalse((r.out() + r.err()).contains(bad.substring(10, 30)), r.err());
        // from a file, the same
        Path f = dir.resolve("key");
        Files.writeString(f, bad + "\n");
        r = ControlCommandsTest.run("discover", "-a", "127.0.0.1", "-s", "1", "--dhchap-secret", "@" + f);
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("CRC mismatch"), r.err());
        assertFalse((r.out() + r.err()).contains(bad.substring(10, 30)), r.err());
        r = ControlCommandsTest.run("export", "--device", "ram:1M", "--dhchap-key", good);
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--allow-host"), r.err());
    }
}
