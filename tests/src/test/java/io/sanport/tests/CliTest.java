package io.sanport.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sanport command as a user meets it: help that lists every command, results, and errors in words. */
class CliTest {
    record Run(int exit, String out, String err) {}

    static synchronized Run sanport(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void helpListsEveryCommandWithADescription() {
        Run r = sanport("--help");
        assertEquals(0, r.exit());
        for (String command : new String[] {"demo", "serve", "export", "discover", "bench", "info", "rpc", "status", "help"}) {
            assertTrue(r.out().lines().anyMatch(l -> l.strip().startsWith(command + " ") && l.strip().length() > command.length() + 5),
                    "no line for " + command + " in:\n" + r.out());
        }
    }

    @Test
    void benchLocalPrintsOneJsonObject() {
        Run r = sanport("bench", "local", "--device", "ram:32M", "--rw", "randwrite", "--bs", "4k", "--qd", "8",
                "--seconds", "0.5", "--ramp", "0", "--json");
        assertEquals(0, r.exit(), r.err());
        String last = r.out().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.startsWith("{") && last.endsWith("}") && last.contains("\"rw\":\"randwrite\"")
                && last.contains("\"errors\":0"), last);
        // bench/compare.sh reads the process's CPU per million I/Os from here: a number, not null
        assertTrue(last.matches(".*\"cpu_s\":[0-9.]+,\"cpu_s_per_mio\":[0-9.]+\\}$"), last);
    }

    @Test
    void benchLocalJobsShareOneDeviceAndAddUp() {
        Run r = sanport("bench", "local", "--device", "ram:32M", "--rw", "randread", "--bs", "4k", "--qd", "4",
                "--jobs", "2", "--seconds", "0.5", "--ramp", "0", "--json");
        assertEquals(0, r.exit(), r.err());
        String last = r.out().strip().lines().reduce((a, b) -> b).orElse("");
        assertTrue(last.contains("\"errors\":0") && !last.contains("\"ios\":0,"), last);
        Run bad = sanport("bench", "local", "--device", "ram:8M", "--jobs", "0");
        assertTrue(bad.exit() != 0 && bad.err().contains("--jobs"), bad.err());
    }

    @Test
    void infoDescribesADevice(@TempDir Path dir) {
        Run r = sanport("info", "--device", "ram:8M");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("size:           8388608 bytes"), r.out());
        assertTrue(r.out().contains("RLIMIT_MEMLOCK"), r.out());
    }

    @Test
    void badInputIsRefusedInWords(@TempDir Path dir) {
        Run missing = sanport("bench", "local", "--device", dir.resolve("none.img").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("no such file"), missing.err());
        Run rw = sanport("bench", "local", "--device", "ram:8M", "--rw", "sideways");
        assertEquals(1, rw.exit());
        assertTrue(rw.err().contains("--rw must be randread, randwrite, read or write"), rw.err());
        Run size = sanport("info", "--device", "ram:lots");
        assertEquals(1, size.exit());
        assertTrue(size.err().contains("not a size: 'lots'"), size.err());
        Run bs = sanport("bench", "local", "--device", "ram:8M", "--bs", "1000");
        assertEquals(1, bs.exit());
        assertTrue(bs.err().contains("block size must be a multiple of 512"), bs.err());
    }
}
