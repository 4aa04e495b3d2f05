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

    /** Sets the log level; call first. */
    void applyLogLevel() {
        Logging.level(logLevel);
    }

    /** The control socket for {@code target}, or null (none asked for, or the default path unavailable). */
    ControlSocket open(Target target, PrintStream err) throws IOException {
        if (noControlSocket) {
            if (controlSocket != null) {
                throw new IllegalArgumentException("give --control-socket or --no-control-socket, not both");
            }
            return null;
        }
        Path path = controlSocket != null ? controlSocket : ControlSocket.DEFAULT_PATH;
        RpcMethods methods = new RpcMethods();
        TargetMethods.register(methods, target, Main.version());
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
