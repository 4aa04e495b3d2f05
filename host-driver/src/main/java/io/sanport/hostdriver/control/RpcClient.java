package io.sanport.hostdriver.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** One JSON-RPC call over a control socket ({@code sanport rpc}, {@code sanport status}, the tests). */
public final class RpcClient {
    private static final AtomicLong IDS = new AtomicLong(1);

    private RpcClient() {}

    /**
     * Calls {@code method} with {@code params} (null: none) at {@code socket}: the result, or the error object
     * as an {@link RpcException}. {@link NoSuchFileException} when nothing is at that path; a call that takes
     * longer than {@code timeoutMillis} is abandoned with an IOException.
     */
    public static JsonNode call(Path socket, String method, JsonNode params, long timeoutMillis)
            throws IOException, RpcException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(socket.toString());
        }
        long id = IDS.getAndIncrement();
        ObjectNode req = ControlSocket.JSON.createObjectNode().put("jsonrpc", "2.0").put("id", id).put("method", method);
        if (params != null) {
            req.set("params", params);
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            Thread timer = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(timeoutMillis);
                    ch.close();
                } catch (InterruptedException | IOException done) {
                    // answered in time
                }
            });
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ByteBuffer out = ByteBuffer.wrap((ControlSocket.JSON.writeValueAsString(req) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
                IOException writeFailed = null;
                try {
                    while (out.hasRemaining()) {
                        ch.write(out);
                    }
                } catch (IOException e) {
                    writeFailed = e; // the target may have refused us first (too many clients): read why
                }
                String line;
                try {
                    line = readLine(ch);
                } catch (IOException e) {
                    if (writeFailed != null) {
                        throw writeFailed;
                    }
                    throw e;
                }
                JsonNode response = ControlSocket.JSON.readTree(line);
                JsonNode error = response.get("error");
                if (error != null && error.isObject()) {
                    throw new RpcException(error.path("code").asInt(RpcException.INTERNAL_ERROR),
                            error.path("message").asText("(no message)"));
                }
                if (!response.has("result")) {
                    throw new IOException("a response with neither result nor error: " + response);
                }
                return response.get("result");
            } catch (java.nio.channels.AsynchronousCloseException e) {
                throw new IOException(method + " at " + socket + ": no answer within " + timeoutMillis + " ms", e);
            } finally {
                timer.interrupt();
            }
        }
    }

    private static String readLine(SocketChannel ch) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        while (true) {
            in.clear();
            int n = ch.read(in);
            if (n < 0) {
                if (line.size() == 0) {
                    throw new IOException("the target closed the control connection without an answer");
                }
                return line.toString(StandardCharsets.UTF_8);
            }
            for (int i = 0; i < n; i++) {
                byte b = in.get(i);
                if (b == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(b);
            }
        }
    }
}
