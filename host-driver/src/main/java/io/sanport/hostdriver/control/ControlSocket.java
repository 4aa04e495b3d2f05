package io.sanport.hostdriver.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The control socket: JSON-RPC 2.0 over a Unix stream socket, one request object per line and one response
 * line per request (notifications, without an id, get none), as SPDK's {@code rpc.py} talks to its target.
 * <p>
 * Only root and the user that runs the target may use it: the socket file is 0600 before it can be reached
 * (bound in a 0700 directory, then linked into place) and each client's SO_PEERCRED is checked. A socket file
 * left by a target that died is replaced; one a live target answers on is refused. Input is bounded: a request
 * of at most {@link #MAX_REQUEST} bytes, {@link #MAX_CLIENTS} clients at once, and a client that sends no
 * complete request within the idle timeout is disconnected. It runs on its own threads, never a reactor's.
 */
public final class ControlSocket implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("sanport.control");
    /** Where {@code sanport serve} listens and {@code sanport rpc} connects unless told otherwise. */
    public static final Path DEFAULT_PATH = Path.of("/run/sanport/sanport.sock");
    public static final int MAX_REQUEST = 1 << 20;
    public static final int MAX_CLIENTS = 8;
    public static final long IDLE_TIMEOUT_MILLIS = 30_000;
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final RpcMethods methods;
    private final ServerSocketChannel server;
    private final Object fileKey; // the inode we linked: close removes the file only while it is still ours
    private final String owner;
    private final long idleMillis;
    private final Semaphore slots;
    private final int maxClients;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService watchdog;
    private final Thread acceptor;
    private volatile boolean closed;

    /** The other target's socket answers: this one must not take its path. */
    public static final class InUseException extends IOException {
        InUseException(String message) {
            super(message);
        }
    }

    private ControlSocket(Path path, RpcMethods methods, ServerSocketChannel server, int maxClients, long idleMillis)
            throws IOException {
        this.path = path;
        this.methods = methods;
        this.server = server;
        BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        this.fileKey = attrs.fileKey();
        this.owner = Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName();
        this.idleMillis = idleMillis;
        this.slots = new Semaphore(maxClients);
        this.maxClients = maxClients;
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sanport-control-watchdog");
            t.setDaemon(true);
            return t;
        });
        long tick = Math.max(10, Math.min(1000, idleMillis / 4));
        watchdog.scheduleAtFixedRate(this::expireIdle, tick, tick, TimeUnit.MILLISECONDS);
        this.acceptor = new Thread(this::acceptLoop, "sanport-control");
        acceptor.setDaemon(true);
    }

    /** Listens at {@code path} with the default bounds. */
    public static ControlSocket open(Path path, RpcMethods methods) throws IOException {
        return open(path, methods, MAX_CLIENTS, IDLE_TIMEOUT_MILLIS);
    }

    /**
     * Listens at {@code path}: creates its directory (0755) if missing, replaces a stale socket file, refuses a
     * live one ({@link InUseException}) or a file that is not a socket.
     */
    public static ControlSocket open(Path path, RpcMethods methods, int maxClients, long idleMillis) throws IOException {
        Path file = path.toAbsolutePath().normalize();
        Path dir = file.getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        removeIfStale(file);
        Path tmp = Files.createTempDirectory(dir, ".sanport-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path staging = tmp.resolve("s");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            try {
                server.bind(UnixDomainSocketAddress.of(staging), 16);
            } catch (java.net.SocketException e) {
                // sun_path holds 107 bytes, and the staging path is about 32 longer than the directory
                throw new IOException("cannot bind a Unix socket in " + dir + " (" + e.getMessage()
                        + "; a directory path of at most 75 bytes works)", e);
            }
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rw-------"));
            try {
                Files.createLink(file, staging); // link(2) never replaces: a target that started meanwhile keeps its file
            } catch (FileAlreadyExistsException e) {
                throw new InUseException(file + " appeared while this target started (another sanport?)");
            }
            ControlSocket s = new ControlSocket(file, methods, server, maxClients, idleMillis);
            s.acceptor.start();
            LOG.log(System.Logger.Level.INFO, "control socket " + file + " (JSON-RPC 2.0; "
                    + (s.owner.equals("root") ? "root" : "root and " + s.owner) + " only)");
            return s;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        } finally {
            Files.deleteIfExists(staging);
            Files.deleteIfExists(tmp);
        }
    }

    private static void removeIfStale(Path file) throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException(file + " exists and is not a socket: not replacing it");
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(file))) {
            throw new InUseException("another sanport serves its control socket at " + file);
        } catch (InUseException e) {
            throw e;
        } catch (java.net.ConnectException e) {
            // ECONNREFUSED: nobody listens, the target that bound it is gone
            Files.deleteIfExists(file);
            LOG.log(System.Logger.Level.INFO, "replaced the stale control socket " + file + " (no process listened on it)");
        } catch (IOException e) {
            throw new IOException("cannot tell whether " + file + " is in use: " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    // ---------------------------------------------------------------- serving

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, "control socket " + path + ": accept: " + e.getMessage());
                    sleep(100);
                }
                continue;
            }
            String user = peerUser(ch);
            String refused = refusal(user);
            if (refused != null) {
                LOG.log(System.Logger.Level.WARNING, "control socket " + path + ": " + refused);
            } else if (!slots.tryAcquire()) {
                refused = "too many control clients at once (at most " + maxClients + ")";
            }
            if (refused != null) {
                try (ch) {
                    write(ch, error(null, RpcException.APPLICATION, refused));
                } catch (IOException ignored) {
                    // the client went first
                }
                continue;
            }
            Client c = new Client(ch, user);
            clients.add(c);
            Thread.ofVirtual().name("sanport-control-client").start(c::serve);
        }
    }

    /** The client's user from SO_PEERCRED, or null when the kernel would not say. */
    private static String peerUser(SocketChannel ch) {
        try {
            return ch.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user().getName();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** Why this client may not talk to us (its uid is neither root nor ours), or null. */
    private String refusal(String user) {
        if (user == null) {
            return "refused a client whose credentials (SO_PEERCRED) are unknown";
        }
        if (user.equals("root") || user.equals(owner)) {
            return null;
        }
        return "refused a client running as " + user + " (root and " + owner + " only)";
    }

    private final class Client {
        final SocketChannel ch;
        final String user;
        volatile long deadline; // System.nanoTime() by which a whole request must be in

        Client(SocketChannel ch, String user) {
            this.ch = ch;
            this.user = user;
            armDeadline();
        }

        void armDeadline() {
            deadline = System.nanoTime() + idleMillis * 1_000_000L;
        }

        void serve() {
            try (ch) {
                ByteBuffer in = ByteBuffer.allocate(16 * 1024);
                byte[] line = new byte[1024];
                int len = 0;
                while (true) {
                    int n = ch.read(in);
                    if (n < 0) {
                        if (len > 0) {
                            handle(line, len); // the last request need not end in a newline
                        }
                        return;
                    }
                    in.flip();
                    while (in.hasRemaining()) {
                        byte b = in.get();
                        if (b == '\n') {
                            handle(line, len);
                            len = 0;
                            continue;
                        }
                        if (len == MAX_REQUEST) {
                            write(ch, error(null, RpcException.INVALID_REQUEST, "request longer than " + MAX_REQUEST
                                    + " bytes; closing the connection"));
                            return;
                        }
                        if (len == line.length) {
                            line = Arrays.copyOf(line, Math.min(MAX_REQUEST, line.length * 2));
                        }
                        line[len++] = b;
                    }
                    in.clear();
                }
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.DEBUG, () -> "control client: " + e.getMessage());
                }
            } finally {
                clients.remove(this);
                slots.release();
            }
        }

        /** Answers one line. */
        void handle(byte[] line, int len) throws IOException {
            deadline = Long.MAX_VALUE; // a slow method is not the client's idleness
            String response = respond(new String(line, 0, len, StandardCharsets.UTF_8), user);
            if (response != null) {
                deadline = System.nanoTime() + idleMillis * 1_000_000L; // a client that does not read is cut too
                write(ch, response);
            }
            armDeadline();
        }
    }

    /**
     * The response line to one request line, or null for a blank line or a notification. A method that is not
     * a read ({@code *_get_*}) is logged with its caller and outcome, never its params (keys may come in them).
     */
    String respond(String text, String user) {
        if (text.isBlank()) {
            return null;
        }
        JsonNode req;
        try {
            req = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return error(null, RpcException.PARSE_ERROR, "parse error: " + e.getOriginalMessage());
        }
        if (!req.isObject()) {
            return error(null, RpcException.INVALID_REQUEST, "a request is a JSON object"
                    + (req.isArray() ? " (batches are not supported)" : ""));
        }
        JsonNode id = req.get("id");
        if (id != null && !(id.isTextual() || id.isIntegralNumber() || id.isNull())) {
            return error(null, RpcException.INVALID_REQUEST, "id: must be a string, an integer or null");
        }
        JsonNode version = req.get("jsonrpc");
        if (version == null || !version.isTextual() || !version.textValue().equals("2.0")) {
            return error(id, RpcException.INVALID_REQUEST, "jsonrpc: must be \"2.0\"");
        }
        JsonNode method = req.get("method");
        if (method == null || !method.isTextual()) {
            return error(id, RpcException.INVALID_REQUEST, "method: must be a string");
        }
        JsonNode params = req.get("params");
        if (params != null && !params.isObject() && !params.isNull()) {
            return error(id, RpcException.INVALID_PARAMS, "params: must be an object (by-name parameters only)");
        }
        String name = method.textValue();
        LOG.log(System.Logger.Level.DEBUG, () -> "control socket: " + name);
        String response;
        String outcome = "ok";
        try {
            ObjectNode ok = JSON.createObjectNode().put("jsonrpc", "2.0");
            ok.set("id", id);
            ok.set("result", methods.call(name, params));
            response = JSON.writeValueAsString(ok);
        } catch (RpcException e) {
            response = error(id, e.code(), e.getMessage());
            outcome = "error " + e.code() + ": " + e.getMessage();
        } catch (RuntimeException | JsonProcessingException e) {
            LOG.log(System.Logger.Level.WARNING, "control socket: method " + name + " failed", e);
            response = error(id, RpcException.INTERNAL_ERROR, name + " failed: " + e);
            outcome = "failed: " + e;
        }
        if (!name.contains("_get_") && methods.has(name)) {
            LOG.log(System.Logger.Level.INFO, "control socket: " + name + " by " + user + ": " + outcome);
        }
        return id == null ? null : response;
    }

    static String error(JsonNode id, int code, String message) {
        ObjectNode r = JSON.createObjectNode().put("jsonrpc", "2.0");
        r.set("id", id);
        r.putObject("error").put("code", code).put("message", message);
        try {
            return JSON.writeValueAsString(r);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(SocketChannel ch, String line) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            ch.write(out);
        }
    }

    private void expireIdle() {
        long now = System.nanoTime();
        for (Client c : clients) {
            if (now - c.deadline > 0) {
                LOG.log(System.Logger.Level.DEBUG, () -> "control socket: closing a client idle for " + idleMillis + " ms");
                try {
                    c.ch.close(); // its thread's read or write fails and it leaves
                } catch (IOException ignored) {
                    // closed anyway
                }
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops listening, ends the clients and removes the socket file (if it is still the one bound here). */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        server.close();
        watchdog.shutdownNow();
        for (Client c : clients) {
            c.ch.close();
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (fileKey != null && fileKey.equals(a.fileKey())) {
                Files.delete(path);
            }
        } catch (java.nio.file.NoSuchFileException gone) {
            // removed by hand: nothing to do
        }
    }
}
