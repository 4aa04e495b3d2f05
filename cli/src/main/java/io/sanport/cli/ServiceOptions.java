package io.sanport.cli;

import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.control.ControlSocket;
import io.sanport.hostdriver.control.RpcMethods;
import io.sanport.hostdriver.control.TargetMethods;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * What a long-running target adds (serve, export): its control socket and its log level. The default socket
 * path is best effort: when it cannot be had (not root, or another sanport holds it) the target runs without
 * one and says so; a path given with --control-socket must work or the target does not start.
 */
final class ServiceOptions {
    @Option(names = "--control-socket", paramLabel = "PATH",
            description = "The control socket (JSON-RPC 2.0, for 'sanport rpc' and 'sanport status'; root and this "
                    + "user only) (default: /run/sanport/sanport.sock, skipped with a warning if unavailable).")
    Path controlSocket;
    @Option(names = "--no-control-socket", description = "Run without a control socket.")
    boolean noControlSocket;
    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "error, warning, info (connects, disconnects, refusals) or debug (default: ${DEFAULT-VALUE}; "
                    + "SANPORT_DEBUG=1 means debug).")
    String logLevel;
    /** The methods {@link #open} registered: the socket's, and what SIGHUP calls. */
    RpcMethods methods;

    /** Sets the log level; call first. */
    void applyLogLevel() {
        Logging.level(logLevel);
    }

    /** The control socket for {@code target}, or null (none asked for, or the default path unavailable). */
    ControlSocket open(Target target, PrintStream err) throws IOException {
        return open(target, null, err);
    }

    /**
     * As {@link #open(Target, PrintStream)}; {@code configFile} is the file {@code sanport_reload} reads again (null:
     * none, export).
     */
    ControlSocket open(Target target, Path configFile, PrintStream err) throws IOException {
        methods = new RpcMethods();
        TargetMethods.register(methods, target, Main.version(), configFile);
        if (noControlSocket) {
            if (controlSocket != null) {
                throw new IllegalArgumentException("give --control-socket or --no-control-socket, not both");
            }
            return null;
        }
        Path path = controlSocket != null ? controlSocket : ControlSocket.DEFAULT_PATH;
        try {
            return ControlSocket.open(path, methods);
        } catch (IOException e) {
            String why = e instanceof AccessDeniedException a
                    ? "permission denied on " + a.getFile() + (isRoot() ? "" : " (not root)")
                    : Errors.describe(e);
            if (controlSocket != null) {
                throw new IOException("control socket " + path + ": " + why
                        + "; give another --control-socket PATH, or --no-control-socket", e);
            }
            err.println("sanport: warning: running without a control socket: " + why + "; give --control-socket PATH"
                    + " (e.g. $XDG_RUNTIME_DIR/sanport.sock) to have one, or --no-control-socket to say none");
            err.flush();
            return null;
        }
    }

    /**
     * On SIGHUP, reloads the config file as {@code sanport reload} does (what systemd's ExecReload and daemons'
     * custom expect), logging the changes or why it was refused. Replaces the JVM's own SIGHUP handling, which
     * would shut down. Returns false (and says so) where the signal cannot be handled.
     */
    boolean reloadOnHangup(PrintStream err) {
        RpcMethods m = methods;
        System.Logger log = System.getLogger("sanport.control");
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> Thread.ofPlatform().name("sanport-reload").start(() -> {
                try {
                    var changes = m.call("sanport_reload", null);
                    var errors = ReloadCommand.errors(changes);
                    if (errors.isEmpty()) {
                        log.log(System.Logger.Level.INFO, "SIGHUP: reloaded the config: " + (changes.isEmpty()
                                ? "no change" : changes.size() + " change(s)"));
                    } else {
                        log.log(System.Logger.Level.WARNING, "SIGHUP: reloaded the config with " + errors.size()
                                + " error(s) in " + changes.size() + " change(s): " + String.join("; ", errors));
                    }
                } catch (io.sanport.hostdriver.control.RpcException e) {
                    log.log(System.Logger.Level.ERROR, "SIGHUP: reload refused, the target runs as before: " + e.getMessage());
                } catch (RuntimeException e) {
                    log.log(System.Logger.Level.ERROR, "SIGHUP: reload failed: " + e, e);
                }
            }));
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            err.println("sanport: warning: SIGHUP will not reload the config (" + e.getMessage() + "); use 'sanport reload'");
            return false;
        }
    }

    /** {@code target} and its control socket as one: the socket goes first, so no call meets a closing target. */
    static AutoCloseable both(ControlSocket socket, AutoCloseable target) {
        return () -> {
            try {
                if (socket != null) {
                    socket.close();
                }
            } finally {
                target.close();
            }
        };
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
