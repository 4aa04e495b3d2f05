package io.sanport.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.sanport.hostdriver.control.ControlSocket;
import io.sanport.hostdriver.control.RpcClient;
import io.sanport.hostdriver.control.RpcException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How {@code sanport rpc} and {@code sanport status} reach a running target. */
final class ControlClientOptions {
    @Option(names = "--control-socket", paramLabel = "PATH", description = "The target's control socket (default: ${DEFAULT-VALUE}).")
    Path socket = ControlSocket.DEFAULT_PATH;
    @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "10000", description = "Give up after (default: ${DEFAULT-VALUE}).")
    long timeoutMillis;

    /** The result of {@code method}; an error object or an unreachable target is an exception saying which, in words. */
    JsonNode call(String method, JsonNode params) throws IOException {
        try {
            return RpcClient.call(socket, method, params, timeoutMillis);
        } catch (NoSuchFileException | java.net.ConnectException e) {
            throw new IOException("no sanport at " + socket + " (is it running? --control-socket PATH)", e);
        } catch (AccessDeniedException e) {
            throw denied(e);
        } catch (java.net.SocketException e) {
            if (String.valueOf(e.getMessage()).contains("Permission denied")) {
                throw denied(e);
            }
            throw new IOException("cannot reach sanport at " + socket + ": " + e.getMessage(), e);
        } catch (RpcException e) {
            throw new IOException(method + ": " + e.getMessage() + " (JSON-RPC error " + e.code() + ")");
        }
    }

    private IOException denied(IOException e) {
        return new IOException("permission denied on " + socket + ": only root and the user running the target may "
                + "use its control socket", e);
    }
}
