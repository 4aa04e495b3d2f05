package io.sanport.transport.tcp;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.hostdriver.ConnectionLimits;
import io.sanport.hostdriver.DisconnectReason;
import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.RateLimitedLog;
import io.sanport.hostdriver.QueuePair;
import io.sanport.hostdriver.RemoteQueue;
import io.sanport.hostdriver.Request;
import io.sanport.hostdriver.Target;
import io.sanport.iop.BufferPool;
import io.sanport.iop.Reactor;
import io.sanport.nvme.tcp.Crc32c;
import io.sanport.nvme.tcp.ICReq;
import io.sanport.nvme.tcp.ICResp;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.TermReq;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;

/**
 * One NVMe/TCP connection = one queue pair (nvmet's {@code nvmet_tcp_queue}), driven by its reactor's ring, and
 * its life: connection initialization (ICReq/ICResp, digests), one {@link TcpCommand} per slot of its
 * {@link QueuePair} (grown at Connect), termination (C2HTermReq on a malformed PDU, this connection only) and
 * teardown. Its {@link PduReceiver} parses what the host sends, its {@link SendQueue} gathers what goes back;
 * the core's calls go to the command of the request's tag.
 *
 * <p>Nothing that happens on one connection reaches the reactor: a handler that throws ends this connection
 * ({@link #failed}), and the {@link TcpConnections.Sweep sweep} ends it when its host owes a step for longer
 * than the target's {@link io.sanport.hostdriver.ConnectionLimits limits} allow.
 */
final class TcpConnection implements RemoteQueue {
    private String[] tlsIdentity; // set before the receive starts; read by the reactor only
    private static final System.Logger LOG = System.getLogger("sanport.tcp");
    /** Any host can send a malformed PDU at will: one warning per second for the whole target, the rest counted. */
    private static final RateLimitedLog TERMINATIONS = new RateLimitedLog(LOG, 1000);

    /** Tests only: called at the start of every completion handler, to prove a throwing one is contained. */
    interface FaultHook {
        /** {@code handler} is "receive", "send" or "accept"; {@code peerPort} the host's TCP port. */
        void on(String handler, int peerPort);
    }

    static volatile FaultHook faultHook;

    private final Target target;
    private final Reactor reactor;
    private final int fd;
    private final String localAddress;
    private final TcpConnections connections;
    private final TcpConnections.Sweep sweep;
    private final int peerAddress;
    private final String hostAddress; // the peer's IP: its per-host buffer quota on this reactor
    private final String peer;
    private final int peerPort;
    private final long startedAt;
    private boolean initialized;    // the ICResp is queued
    private long icRespAt;          // when: the Connect is due within the connect timeout
    private long terminatedAt;      // when the C2HTermReq was queued
    TcpConnection prevLive;         // the sweep's list
    TcpConnection nextLive;
    private final Arena arena = Arena.ofConfined();
    private final Crc32c crc = new Crc32c();
    private final BufferPool pool;
    private final ByteBuffer poolView;
    private final PduReceiver receiver;
    private final SendQueue sendQueue;
    private final ControlPdu icResp;
    private final ControlPdu termReq;
    private final QueuePair queue;
    private TcpCommand[] commands;

    private boolean headerDigest;
    private boolean dataDigest;
    private boolean terminating;    // a C2HTermReq is queued: the close waits until it is sent
    private boolean closing;
    private boolean freed;
    private boolean ioQueueCounted; // in connections' I/O queues of this reactor (placement of new connections)

    private TcpConnection(Target target, Port port, Reactor reactor, int fd, String local,
                          TcpConnections connections, int peerAddress, String peer, int peerPort) {
        this.target = target;
        this.reactor = reactor;
        this.fd = fd;
        this.localAddress = local;
        this.connections = connections;
        this.sweep = connections.sweep(reactor);
        this.peerAddress = peerAddress;
        this.hostAddress = (peerAddress >>> 24) + "." + (peerAddress >>> 16 & 0xFF) + "." + (peerAddress >>> 8 & 0xFF)
                + "." + (peerAddress & 0xFF);
        this.peer = peer;
        this.peerPort = peerPort;
        this.startedAt = System.nanoTime();
        this.pool = reactor.buffers();
        this.poolView = pool.region().asByteBuffer();
        TcpStats.Counters stats = TcpTransport.stats(target).counters(reactor);
        this.receiver = new PduReceiver(this, reactor, fd, stats, arena);
        this.sendQueue = new SendQueue(this, reactor, fd, stats, arena);
        this.icResp = new ControlPdu(ICResp.SIZE, false);
        this.termReq = new ControlPdu(TermReq.MAX_PLEN + 8, true);
        this.queue = target.newQueue(port, reactor, this);
        this.commands = new TcpCommand[0];
        grow(1);
    }

    /**
     * Runs on {@code reactor}: takes ownership of the accepted socket {@code fd} from {@code peer}, admitted by
     * {@code connections}, which it is counted in until it is freed.
     */
    static void start(Target target, Port port, Reactor reactor, int fd, TcpConnections connections,
                      int peerAddress, String peer, int peerPort) {
        start(target, port, reactor, fd, tune(fd, connections.limits, peer), connections, peerAddress, peer, peerPort);
    }

    /**
     * As above for a connection whose socket {@link #tune} set up already: {@code fd} may be the local end of a
     * {@link TcpTls TLS relay}, {@code local} the address the host reached.
     */
    static void start(Target target, Port port, Reactor reactor, int fd, String local, TcpConnections connections,
                      int peerAddress, String peer, int peerPort) {
        start(target, port, reactor, fd, local, connections, peerAddress, peer, peerPort, null);
    }

    /** As above; {@code tlsIdentity}: the host and subsystem NQNs of the TLS session, null without TLS. */
    static void start(Target target, Port port, Reactor reactor, int fd, String local, TcpConnections connections,
                      int peerAddress, String peer, int peerPort, String[] tlsIdentity) {
        TcpConnection c;
        try {
            c = new TcpConnection(target, port, reactor, fd, local, connections, peerAddress, peer, peerPort);
        } catch (RuntimeException | AssertionError e) {
            LOG.log(System.Logger.Level.ERROR, "setting up the connection from " + peer + " failed; closing it", e);
            try {
                Libc.close(fd);
            } catch (ErrnoException ignored) {
                // it was never used
            }
            connections.release(reactor, peerAddress);
            return;
        }
        c.tlsIdentity = tlsIdentity;
        c.sweep.add(c);
        c.receiver.start();
    }

    /** Sets the accepted TCP socket's options (no delay, keepalive, user timeout); returns the local address. */
    static String tune(int fd, ConnectionLimits limits, String peer) {
        String local = "0.0.0.0";
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(SockaddrIn.LAYOUT);
            Libc.getsockname(fd, addr);
            byte[] b = SockaddrIn.sin_addr(addr);
            local = (b[0] & 0xFF) + "." + (b[1] & 0xFF) + "." + (b[2] & 0xFF) + "." + (b[3] & 0xFF);
            Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1, peer);
            if (limits.keepAliveIdleSeconds() > 0) {
                // a host that vanished without a FIN (power loss, cable) is found even when no controller's KATO runs
                Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_KEEPALIVE, 1, peer);
                Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_KEEPIDLE, limits.keepAliveIdleSeconds(), peer);
                Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_KEEPINTVL,
                        Math.min(limits.keepAliveIdleSeconds(), KEEPALIVE_INTERVAL_SECONDS), peer);
                Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_KEEPCNT, KEEPALIVE_PROBES, peer);
            }
            if (limits.userTimeoutMillis() > 0) {
                // a send the host never acknowledges ends the connection instead of holding its buffers
                Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_USER_TIMEOUT, limits.userTimeoutMillis(), peer);
            }
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "setting up the connection from " + peer + ": " + e.getMessage());
        }
        return local;
    }

    static final int KEEPALIVE_INTERVAL_SECONDS = 10;
    static final int KEEPALIVE_PROBES = 3;

    /**
     * One command per slot of the queue pair: the existing ones stay (slot 0, the Connect, may be mid-send),
     * the new ones get their transmit areas and iovecs from one allocation.
     */
    private void grow(int entries) {
        TcpCommand[] grown = new TcpCommand[entries];
        int have = Math.min(commands.length, entries);
        System.arraycopy(commands, 0, grown, 0, have);
        int adding = entries - have;
        MemorySegment tx = arena.allocate((long) adding * TcpCommand.TX_SIZE, 8);
        long iovBytes = TcpCommand.IOV_COUNT * SendJob.IOV_SIZE;
        MemorySegment iov = arena.allocate(adding * iovBytes, 8);
        for (int i = 0; i < adding; i++) {
            grown[have + i] = new TcpCommand(this, queue.request(have + i),
                    tx.asSlice((long) i * TcpCommand.TX_SIZE, TcpCommand.TX_SIZE), iov.asSlice(i * iovBytes, iovBytes));
        }
        commands = grown;
    }

    // ---------------------------------------------------------------- what the parts of the connection share

    QueuePair queue() { return queue; }
    PduReceiver receiver() { return receiver; }
    SendQueue sendQueue() { return sendQueue; }
    Crc32c crc() { return crc; }
    boolean headerDigest() { return headerDigest; }
    boolean dataDigest() { return dataDigest; }
    boolean closing() { return closing; }
    boolean freed() { return freed; }
    int maxTransfer() { return target.maxTransfer(); }
    int peerPort() { return peerPort; }

    /** The most data one PDU may carry: in-capsule data, or an H2CData of MAXH2CDATA. */
    long maxDataPerPdu() {
        return (long) TcpTransport.maxInCapsule() + target.maxTransfer();
    }

    /** The command of slot {@code tag}; {@code tag} below {@link #commands()}. */
    TcpCommand command(int tag) { return commands[tag]; }

    int commands() { return commands.length; }

    /** CRC-32C of {@code length} bytes at {@code offset} of the pool buffer {@code buffer}: no slice, no allocation. */
    int digest(MemorySegment buffer, long offset, int length) {
        return crc.digest(poolView, (int) (buffer.address() + offset - pool.region().address()), length);
    }

    // ---------------------------------------------------------------- RemoteQueue

    @Override
    public int mapData(Request r) {
        return commands[r.tag()].mapData();
    }

    @Override
    public void receiveData(Request r) {
        commands[r.tag()].receiveData();
    }

    @Override
    public void sendResponse(Request r) {
        commands[r.tag()].sendResponse();
    }

    @Override
    public void install(int entries) {
        grow(entries);
        receiver.growStage();
        if (!ioQueueCounted && queue.qid() > 0) {
            ioQueueCounted = true;
            connections.ioQueueUp(reactor);
        }
    }

    @Override
    public String localAddress() {
        return localAddress;
    }

    @Override
    public String hostAddress() {
        return hostAddress;
    }

    @Override
    public void disconnect() {
        try {
            if (reactor.inReactor()) {
                close(true);
            } else {
                reactor.execute(() -> close(true));
            }
        } catch (RejectedExecutionException e) {
            // the reactor is closing: its close cancels what is left
        }
    }

    // ---------------------------------------------------------------- initialization and termination

    /**
     * The ICReq in {@code icReq}: checked, the digests it asks for are taken, and the ICResp is queued (NVMe/TCP
     * 1.0 §3.6.2.2); false when it was refused with a C2HTermReq.
     */
    boolean initialize(MemorySegment icReq) {
        if (PduHeader.type(icReq) != PduHeader.TYPE_IC_REQ) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_TYPE, ICReq.HLEN);
        } else if (PduHeader.hlen(icReq) != ICReq.HLEN) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_HLEN, ICReq.HLEN);
        } else if (PduHeader.plen(icReq) != ICReq.HLEN) {
            terminate(TermReq.FES_INVALID_HEADER_FIELD, (int) PduHeader.OFFSET_PLEN, ICReq.HLEN);
        } else if (ICReq.pfv(icReq) != ICReq.PFV_1_0) {
            terminate(TermReq.FES_UNSUPPORTED_PARAMETER, (int) ICReq.OFFSET_PFV, ICReq.HLEN);
        } else if (ICReq.hpda(icReq) != 0) {
            terminate(TermReq.FES_UNSUPPORTED_PARAMETER, (int) ICReq.OFFSET_HPDA, ICReq.HLEN);
        } else {
            int dgst = ICReq.dgst(icReq) & (ICReq.DIGEST_HEADER | ICReq.DIGEST_DATA);
            headerDigest = (dgst & ICReq.DIGEST_HEADER) != 0;
            dataDigest = (dgst & ICReq.DIGEST_DATA) != 0;
            MemorySegment c = icResp.pdu;
            c.fill((byte) 0);
            PduHeader.set(c, PduHeader.TYPE_IC_RESP, 0, ICResp.HLEN, 0, ICResp.HLEN);
            ICResp.pfv(c, ICReq.PFV_1_0);
            ICResp.cpda(c, 0);
            ICResp.dgst(c, dgst); // the Linux host requires exactly the digests it asked for
            ICResp.maxh2cdata(c, target.maxTransfer());
            icResp.queue(ICResp.HLEN);
            initialized = true;
            icRespAt = System.nanoTime();
            return true;
        }
        return false;
    }

    /**
     * Sends a C2HTermReq carrying the offending header of the PDU being parsed, then closes this connection; no
     * more PDUs are read (NVMe/TCP 1.0 §3.6.2.9).
     */
    void terminate(int fes, int fei, int headerBytes) {
        terminate("malformed PDU (type " + receiver.pduType() + ", FES " + fes + ", FEI " + fei + ")", fes, fei,
                headerBytes);
    }

    /** As {@link #terminate(int, int, int)}, for {@code why}; once only. */
    private void terminate(String why, int fes, int fei, int headerBytes) {
        if (terminating || closing) {
            return;
        }
        TERMINATIONS.warn(() -> this + ": " + why + ", terminating the connection");
        receiver.stop();
        int plen = TermReq.build(termReq.pdu, PduHeader.TYPE_C2H_TERM_REQ, fes, fei, receiver.header(headerBytes));
        terminating = true;
        terminatedAt = System.nanoTime();
        queue.termReqSent(fes);
        termReq.queue(plen);
    }

    // ---------------------------------------------------------------- timeouts and faults

    /**
     * The sweep, on this reactor: ends the connection if its host owes a step for too long. Each state names
     * its own deadline: the ICReq after the accept, the Connect after the ICResp, a command's data (H2CData after
     * its R2T or the last H2CData; in-capsule data its PLEN announced) while it holds a buffer, and the
     * C2HTermReq's send.
     */
    void checkTimeouts(long now) {
        if (closing || freed) {
            return;
        }
        try {
            ConnectionLimits limits = connections.limits;
            if (terminating) {
                if (now - terminatedAt > millis(limits.termTimeoutMillis())) {
                    LOG.log(System.Logger.Level.WARNING, this + ": the C2HTermReq was not sent within "
                            + limits.termTimeoutMillis() + " ms; closing without it");
                    queue.endReason(DisconnectReason.TIMEOUT);
                    close(true);
                }
            } else if (!initialized) {
                if (now - startedAt > millis(limits.icReqTimeoutMillis())) {
                    LOG.log(System.Logger.Level.INFO, this + ": no ICReq within " + limits.icReqTimeoutMillis()
                            + " ms; closing");
                    queue.endReason(DisconnectReason.TIMEOUT);
                    close(true);
                }
            } else if (queue.qid() < 0) {
                if (now - icRespAt > millis(limits.connectTimeoutMillis())) {
                    LOG.log(System.Logger.Level.INFO, this + ": no Connect within " + limits.connectTimeoutMillis()
                            + " ms of the ICResp; closing");
                    queue.endReason(DisconnectReason.TIMEOUT);
                    close(true);
                }
            } else {
                long due = millis(limits.dataTimeoutMillis());
                if (sendQueue.stalledFor(now) > due) {
                    // the host does not read its socket: what waits to be sent holds its buffers (its reads count
                    // against its share until then); no C2HTermReq could get through either
                    LOG.log(System.Logger.Level.WARNING, this + ": the host took none of the data queued for it within "
                            + limits.dataTimeoutMillis() + " ms; closing");
                    queue.endReason(DisconnectReason.TIMEOUT);
                    close(true);
                    return;
                }
                for (TcpCommand c : commands) {
                    if (c.awaitingDataSince(now, due)) {
                        // nothing else frees the command's buffer: no controller timer runs for data owed to us
                        queue.endReason(DisconnectReason.TIMEOUT);
                        terminate(c + ": the host's data did not come within " + limits.dataTimeoutMillis() + " ms",
                                TermReq.FES_PDU_SEQUENCE_ERROR, 0, 0);
                        break;
                    }
                }
            }
        } catch (RuntimeException | AssertionError e) {
            failed("timeout", e);
        }
    }

    private static long millis(long ms) {
        return ms * 1_000_000L;
    }

    /**
     * A handler of this connection threw: the connection ends (a C2HTermReq when the failure was on the receive
     * side and the send side can still be trusted), nothing else does.
     */
    void failed(String handler, Throwable e) {
        queue.endReason(DisconnectReason.FAULT);
        LOG.log(System.Logger.Level.ERROR, this + ": the " + handler + " handler failed; ending this connection", e);
        try {
            if (handler.equals("receive") && initialized && !terminating && !closing) {
                terminate("the receive handler failed", TermReq.FES_PDU_SEQUENCE_ERROR, 0, 0);
            } else {
                close(true);
            }
        } catch (RuntimeException | AssertionError again) {
            e.addSuppressed(again);
            LOG.log(System.Logger.Level.ERROR, this + ": closing after a failed " + handler + " handler failed too",
                    again);
            try {
                close(true);
            } catch (RuntimeException | AssertionError ignored) {
                // leave what is left to the reactor's close
            }
        }
    }

    /** A connection PDU: ICResp, or a C2HTermReq after which the connection shuts down. */
    private final class ControlPdu extends SendJob {
        final MemorySegment pdu;
        private final boolean termination;

        ControlPdu(long size, boolean termination) {
            super(arena.allocate(SendJob.IOV_SIZE, 8));
            this.pdu = arena.allocate(size, 8);
            this.termination = termination;
        }

        void queue(long bytes) {
            iovec(0, pdu.address(), bytes);
            ready(1, bytes);
            sendQueue.add(this);
        }

        @Override
        boolean last() {
            return termination;
        }

        @Override
        void sent() {
            if (termination) {
                shutdown();
            }
        }
    }

    // ---------------------------------------------------------------- teardown

    /**
     * Stops the socket (a posted receive or send completes at once), then frees when the ring is done with us;
     * a C2HTermReq on its way is let go first, for at most the term timeout (the sweep then forces the close).
     */
    void shutdown() {
        close(false);
    }

    /** {@code force}: now, even when a C2HTermReq is still on its way (target shutdown, timeouts, faults). */
    void close(boolean force) {
        if (closing) {
            return;
        }
        if (!force && terminating && sendQueue.sending()
                && System.nanoTime() - terminatedAt <= millis(connections.limits.termTimeoutMillis())) {
            return; // the C2HTermReq is on its way; its completion shuts down
        }
        closing = true;
        receiver.stop();
        try {
            Libc.shutdown(fd, Libc.SHUT_RDWR);
        } catch (ErrnoException e) {
            // already disconnected
        }
        finishIfIdle();
    }

    /** A writev failed ({@code error}, or null when cancelled): the connection is gone. */
    void sendFailed(String error) {
        if (error != null && !closing) {
            LOG.log(System.Logger.Level.DEBUG, () -> this + ": send failed: " + error);
        }
        shutdown();
        finishIfIdle();
    }

    /** A writev completed and its jobs are retired. */
    void sendDone() {
        if (closing) {
            finishIfIdle();
        }
    }

    /** Once closing and no RECV or writev of ours is on the ring: the queue pair drains, then {@link #free}. */
    void finishIfIdle() {
        if (!closing || receiver.receiving() || sendQueue.sending() || freed) {
            return;
        }
        freed = true;
        sendQueue.clear();
        queue.close(this::free);
    }

    private void free() {
        LOG.log(System.Logger.Level.DEBUG, () -> this + ": closed after " + receiver.capsules() + " capsules, "
                + receiver.recvs() + " RECVs, " + sendQueue.writevs() + " writevs");
        sweep.remove(this);
        try {
            Libc.close(fd);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, this + ": " + e.getMessage());
        } finally {
            if (ioQueueCounted) {
                connections.ioQueueDown(reactor);
            }
            connections.release(reactor, peerAddress);
        }
        arena.close();
    }

    @Override
    public String toString() {
        io.sanport.hostdriver.Controller c = queue != null ? queue.controller() : null;
        return "nvme-tcp " + queue + " fd " + fd + " from " + (c != null ? c.hostnqn() + " at " : "") + peer;
    }

    @Override
    public String[] tlsIdentity() {
        return tlsIdentity;
    }

    /** The host's address:port. */
    @Override
    public String peer() {
        return peer;
    }

    /** The reactor's round clock ({@link Reactor#clock}): a data timeout's start needs no clock read of its own. */
    long clock() {
        return reactor.clock();
    }
}
