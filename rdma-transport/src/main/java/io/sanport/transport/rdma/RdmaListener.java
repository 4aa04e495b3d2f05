package io.sanport.transport.rdma;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.RdmaEventChannel;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteTransport;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A listening RDMA CM id and the conductor thread that serves its event channel: every CM event of the port and
 * of its connections goes to the {@link CmConductor}, in order. The thread waits on the channel with poll(2) so
 * that it also runs the tasks reactors hand it (destroying a quiesced queue's QP and cm_id) and writes the stats
 * file. Closing stops the listening only; the thread ends after the last queue and frees the devices.
 */
final class RdmaListener implements RemoteTransport.Listener {
    private static final System.Logger LOG = System.getLogger("sanport.rdma");
    private static final int BACKLOG = 128;
    private static final int POLL_MILLIS = 50;

    private final Port port;
    private final MemorySegment channel;
    private final int channelFd;
    private final MemorySegment listenId;
    private final int boundPort;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final RdmaStatsFile statsFile;
    private final QueuePairFactory factory;
    private final CmConductor conductor;
    private volatile boolean closing;
    private boolean listening = true; // conductor thread

    private RdmaListener(Port port, Target target, RdmaStats stats, MemorySegment channel, MemorySegment listenId,
                         int boundPort) {
        this.port = port;
        this.channel = channel;
        this.channelFd = RdmaEventChannel.fd(channel);
        this.listenId = listenId;
        this.boundPort = boundPort;
        this.statsFile = RdmaStatsFile.fromEnvironment(stats);
        this.factory = new QueuePairFactory(target, port, stats, q -> tasks.add(() -> conductor().destroy(q)));
        this.conductor = new CmConductor(port, stats, factory, statsFile,
                PendingQueues.Limits.of(target.options().limits()), RdmaTransport.connections(target), ControlVerbs.NATIVE);
        this.thread = new Thread(this::run, "sanport-rdma-cm-" + boundPort);
        thread.setDaemon(true);
    }

    private CmConductor conductor() {
        return conductor;
    }

    static RdmaListener open(Port port, Target target, RdmaStats stats) throws IOException {
        String why = Rdmacm.unavailableReason();
        if (why == null) why = Ibverbs.unavailableReason();
        if (why != null) {
            throw new IOException(why);
        }
        if (!port.adrfam().equals("ipv4")) {
            throw new IOException("NVMe/RDMA over " + port.adrfam() + " is not supported yet; use an IPv4 address");
        }
        MemorySegment channel = Rdmacm.rdma_create_event_channel();
        MemorySegment id = null;
        try (Arena arena = Arena.ofConfined()) {
            id = Rdmacm.rdma_create_id(channel, MemorySegment.NULL, Rdmacm.RDMA_PS_TCP);
            MemorySegment addr = arena.allocate(SockaddrIn.LAYOUT);
            SockaddrIn.sin_family(addr, Libc.AF_INET);
            SockaddrIn.sin_port(addr, Integer.parseInt(port.trsvcid()));
            SockaddrIn.sin_addr(addr, InetAddress.getByName(port.traddr()).getAddress());
            Rdmacm.rdma_bind_addr(id, addr);
            Rdmacm.rdma_listen(id, BACKLOG);
            int bound = SockaddrIn.sin_port(RdmaCmId.src_sin(id));
            RdmaListener l = new RdmaListener(port, target, stats, channel, id, bound);
            l.thread.start();
            return l;
        } catch (IOException | RuntimeException e) {
            try {
                if (id != null) Rdmacm.rdma_destroy_id(id);
            } catch (ErrnoException suppressed) {
                e.addSuppressed(suppressed);
            }
            Rdmacm.rdma_destroy_event_channel(channel);
            throw e;
        }
    }

    @Override
    public int boundPort() {
        return boundPort;
    }

    /**
     * Stops accepting: the listening id goes; queues already connected stay until the core or the host ends
     * them, and the conductor frees the devices after the last one.
     */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            if (!stopped.await(5, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "the RDMA CM listener on " + port + " did not stop in 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8, 4);
            while (true) {
                statsFile.tick();
                conductor.tick(System.nanoTime());
                for (Runnable t; (t = tasks.poll()) != null; ) {
                    try {
                        t.run();
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.ERROR, "an RDMA CM task on " + port + " failed", e);
                    }
                }
                if (closing && listening) {
                    stopListening();
                }
                if (conductor.done()) {
                    break;
                }
                if (!Poll.readable(pollfd, channelFd, POLL_MILLIS)) {
                    continue;
                }
                MemorySegment event;
                try {
                    event = Rdmacm.rdma_get_cm_event(channel);
                } catch (ErrnoException e) {
                    LOG.log(System.Logger.Level.WARNING, "rdma_get_cm_event: " + e.getMessage());
                    continue;
                }
                try {
                    conductor.handle(event);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "RDMA CM event on " + port, e);
                }
            }
            factory.close();
            Rdmacm.rdma_destroy_event_channel(channel);
            statsFile.write();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "the RDMA CM conductor of " + port + " stopped", t);
        } finally {
            stopped.countDown();
        }
    }

    private void stopListening() {
        listening = false;
        try {
            Rdmacm.rdma_destroy_id(listenId);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the RDMA CM listener on " + port + ": " + e.getMessage());
        }
        stopped.countDown();
        conductor.stopListening();
    }

    @Override
    public String toString() {
        return "nvme-rdma listener " + port;
    }
}
