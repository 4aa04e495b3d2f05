package io.sanport.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sanport} command. */
@Command(name = "sanport", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Exports Linux block devices (NVMe disks, any block device, image files) to cluster peers "
                + "over NVMe-over-Fabrics, driving the disks with io_uring.",
        subcommands = {DemoCommand.class, ServeCommand.class, ExportCommand.class, DiscoverCommand.class,
                BenchCommand.class, InfoCommand.class, RpcCommand.class, StatusCommand.class, ReloadCommand.class,
                AnaStateCommand.class,
                CommandLine.HelpCommand.class},
        commandListHeading = "%nCommands:%n",
        footer = {"", "Run 'sanport help COMMAND' for a command's options.",
                "Set SANPORT_DEBUG=1 to see stack traces of errors."})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        Logging.configure();
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("sanport: error: " + Errors.describe(e));
            if (System.getenv("SANPORT_DEBUG") != null) {
                e.printStackTrace(line.getErr());
            }
            return 1;
        });
        return cl.execute(args);
    }

    /** This build's version: the jar's Implementation-Version, or "development build". */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sanport " + (v == null ? "development build" : v)
                    + " (Java " + Runtime.version() + ", " + System.getProperty("os.name") + " "
                    + System.getProperty("os.version") + ")"};
        }
    }
}
