package io.sanport.transport.tcp;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.hostdriver.Port;
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
 */
final class TcpConnection implements RemoteQueue {
    private static final System.Logger LOG = System.getLogger("sanport.tcp");

    private final Target target;
    private final Reactor reactor;
    private final int fd;
    private final String localAddress;
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

    private TcpConnection(Target target, Port port, Reactor reactor, int fd, String local) {
        this.target = target;
        this.reactor = reactor;
        this.fd = fd;
        this.localAddress = local;
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

    /** Runs on {@code reactor}: takes ownership of the accepted socket {@code fd}. */
    static void start(Target target, Port port, Reactor reactor, int fd) {
        String local = "0.0.0.0";
        try (Arena a = Arena.ofConfined()) {
            Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1, "accepted connection");
            MemorySegment addr = a.allocate(SockaddrIn.LAYOUT);
            Libc.getsockname(fd, addr);
            byte[] b = SockaddrIn.sin_addr(addr);
            local = (b[0] & 0xFF) + "." + (b[1] & 0xFF) + "." + (b[2] & 0xFF) + "." + (b[3] & 0xFF);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, "setting up an accepted connection: " + e.getMessage());
        }
        new TcpConnection(target, port, reactor, fd, local).receiver.start();
    }

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
    }

    @Override
    public String localAddress() {
        return localAddress;
    }

    @Override
    public void disconnect() {
        try {
            if (reactor.inReactor()) {
                shutdown();
            } else {
                reactor.execute(this::shutdown);
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
            return true;
        }
        return false;
    }

    /**
     * Sends a C2HTermReq carrying the offending header of the PDU being parsed, then closes this connection; no
     * more PDUs are read (NVMe/TCP 1.0 §3.6.2.9).
     */
    void terminate(int fes, int fei, int headerBytes) {
        LOG.log(System.Logger.Level.WARNING, this + ": malformed PDU (type " + receiver.pduType() + ", FES " + fes
                + ", FEI " + fei + "), terminating the connection");
        receiver.stop();
        int plen = TermReq.build(termReq.pdu, PduHeader.TYPE_C2H_TERM_REQ, fes, fei, receiver.header(headerBytes));
        termReq.queue(plen);
        terminating = true;
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

    /** Stops the socket (a posted receive or send completes at once), then frees when the ring is done with us. */
    void shutdown() {
        if (closing) {
            return;
        }
        if (terminating && sendQueue.sending()) {
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
        try {
            Libc.close(fd);
        } catch (ErrnoException e) {
            LOG.log(System.Logger.Level.WARNING, this + ": " + e.getMessage());
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "nvme-tcp " + queue + " fd " + fd;
    }
}
