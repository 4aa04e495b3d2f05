package io.sanport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.hostdriver.ConnectionLimits;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The connection limits on the command line of export and serve: both transports' knobs, and their help. */
class LimitOptionsTest {

    @Test
    void exportAndServeTakeTheRdmaKnobs() {
        ExportCommand export = new ExportCommand();
        new CommandLine(export).parseArgs("--transport", "rdma", "--connect-timeout-ms", "2500",
                "--max-pending-per-host", "16", "--max-connections", "64", "--max-connections-per-host", "8");
        ConnectionLimits l = export.limits.limits();
        assertEquals(2500, l.connectTimeoutMillis());
        assertEquals(16, l.maxPendingPerHost());
        assertEquals(new ConnectionLimits(64, 8, 10_000, 2500, 30_000, 5_000, 30, 30_000, 16), l);

        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--config", "x.json");
        assertEquals(ConnectionLimits.DEFAULT, serve.limits.limits(), "no option: the defaults");
        new CommandLine(serve).parseArgs("--config", "x.json", "--max-pending-per-host", "3");
        assertEquals(3, serve.limits.limits().maxPendingPerHost());
    }

    @Test
    void theHelpNamesTheRdmaKnobs() {
        StringWriter help = new StringWriter();
        new CommandLine(new ServeCommand()).usage(new PrintWriter(help));
        assertTrue(help.toString().contains("--max-pending-per-host"), help.toString());
        assertTrue(help.toString().contains("RDMA CM"), "the Connect timeout says it counts for RDMA too");
    }
}
