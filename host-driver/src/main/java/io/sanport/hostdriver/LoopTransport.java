package io.sanport.hostdriver;

import io.sanport.iop.Reactor;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.fabrics.Capsule;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The loopback transport (nvmet's {@code loop}): a host in the same JVM reaches the target without sockets or
 * verbs. A listening "loop" port is found by {@link #connect}; each connection is one queue pair of the real
 * core on one of the target's reactors, with its I/O on that reactor's ring. Capsules are byte arrays (64-byte
 * SQE + in-capsule data); other data lives in host memory the host {@link LoopConnection#register registers}
 * and names with a keyed SGL, which the target copies as RDMA would READ or WRITE it. For tests and in-process
 * hosts: the host side allocates per command.
 */
public final class LoopTransport implements RemoteTransport {
    /** Discovery log TRTYPE of a loop port: nvmet's {@code NVMF_TRTYPE_LOOP}. */
    public static final int TRTYPE_LOOP = 254;

    // the listening loop ports of every target in the JVM, by port
    private static final Map<Port, Target> LISTENING = new ConcurrentHashMap<>();

    @Override public String type() { return "loop"; }
    @Override public int trtype() { return TRTYPE_LOOP; }
    @Override public int ioccsz() { return Capsule.IOCCSZ; }

    /** Data Block with the Offset subtype (in-capsule) and Keyed Data Block (host memory), as on RDMA. */
    @Override
    public int sgls() {
        return IdentifyController.SGLS_SUPPORTED | IdentifyController.SGLS_KEYED | IdentifyController.SGLS_OFFSET;
    }

    @Override
    public Listener listen(Port port, Target target) {
        LISTENING.put(port, target);
        return new Listener() {
            @Override public int boundPort() { return Integer.parseInt(port.trsvcid()); }
            @Override public void close() { LISTENING.remove(port); }
        };
    }

    /**
     * Connects a new queue to {@code port} (a listening "loop" port of a running target): the Connection
     * Manager binds it to the next reactor and creates its queue pair there. The host then sends a fabrics
     * Connect on it, as on any transport.
     */
    public static LoopConnection connect(Port port) throws IOException {
        Target target = LISTENING.get(port);
        if (target == null || target.closed()) {
            throw new IOException(port + " is not a listening loop port");
        }
        Reactor reactor = target.nextReactor();
        LoopQueue queue = new LoopQueue(reactor, target.maxTransfer());
        try {
            reactor.call(r -> {
                queue.bind(target.newQueue(port, r, queue));
                return null;
            }).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted connecting to " + port, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("connecting to " + port, e);
        }
        return queue.host();
    }
}
