package io.sanport.hostdriver;

import io.sanport.iop.Reactor;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.Status;
import io.sanport.nvme.Wire;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Connection Manager: creates the direct path between a host's queue and the disk. It binds each new
 * transport queue to one reactor and creates its {@link QueuePair} there; at the queue's Connect it admits the
 * host (subsystem reachable on the port, host allowed, controller found or created) and sizes the queue pair
 * (nvmet {@code nvmet_install_queue}). Fabrics parses the Connect command; the model lives in {@link Target}.
 */
public final class ConnectionManager {
    private static final System.Logger LOG = System.getLogger("sanport.target");
    /** Slots beyond SQSIZE + 1: a completion reaches the host before our send's CQE frees its slot. */
    static final int SPARE_SLOTS = 4;
    // a host can send refused Connects at will: one line a second at most
    private static final RateLimitedLog REFUSED = new RateLimitedLog(LOG, 1000);

    private final Target target;
    private final List<ReactorContext> reactors;
    private final Map<Reactor, ReactorContext> byReactor = new IdentityHashMap<>();
    private final AtomicInteger nextReactor = new AtomicInteger();
    private final Set<QueuePair> queues = ConcurrentHashMap.newKeySet();

    ConnectionManager(Target target, List<ReactorContext> reactors) {
        this.target = target;
        this.reactors = List.copyOf(reactors);
        for (ReactorContext c : reactors) {
            byReactor.put(c.reactor, c);
        }
    }

    /** Every reactor of every I/O processor. */
    public List<Reactor> reactors() {
        return reactors.stream().map(c -> c.reactor).toList();
    }

    /** The reactor the next connection goes to: round robin. */
    public Reactor nextReactor() {
        return reactors.get(Math.floorMod(nextReactor.getAndIncrement(), reactors.size())).reactor;
    }

    /** {@code reactor}'s pool registrations (ring buffer index, RDMA lkeys); null for a foreign reactor. */
    public MemoryRegistry memory(Reactor reactor) {
        ReactorContext c = byReactor.get(reactor);
        return c != null ? c.memory : null;
    }

    /** A queue pair for a new connection; call on {@code reactor}'s thread, which then owns it. */
    public QueuePair newQueue(Port port, Reactor reactor, RemoteQueue transport) {
        ReactorContext ctx = byReactor.get(reactor);
        if (ctx == null || !reactor.inReactor()) {
            throw new IllegalStateException("newQueue must run on one of the target's reactors");
        }
        return newQueue(port, ctx, transport, ctx.local);
    }

    /** As above with another Local Transport (tests: the in-memory one). */
    QueuePair newQueue(Port port, ReactorContext ctx, RemoteQueue transport, LocalTransport local) {
        QueuePair q = new QueuePair(target, port, ctx, transport, local);
        queues.add(q);
        if (target.closed()) {
            transport.disconnect();
        }
        return q;
    }

    ReactorContext context(Reactor reactor) {
        return byReactor.get(reactor);
    }

    void queueGone(QueuePair q) {
        queues.remove(q);
    }

    /** The queue pairs alive now (shutdown walks them). */
    Set<QueuePair> queues() {
        return queues;
    }

    /** How many requests had to wait for a pool buffer, over all reactors (read racily: for tests and stats). */
    public long bufferWaits() {
        long n = 0;
        for (ReactorContext c : reactors) {
            n += c.waits;
        }
        return n;
    }

    /**
     * Admits the Connect {@code r} for queue {@code qid} of {@code sqsize} + 1 entries: on success binds the
     * queue to its controller and sizes it; else sets the Connect's status (and DW0 for an invalid parameter).
     */
    void admit(Request r, int qid, int sqsize, boolean sqFlowDisabled) {
        MemorySegment sqe = r.sqe;
        MemorySegment data = r.data();
        QueuePair q = r.queue;
        // both names reach logs and the model: well-formed NQNs or nothing (never a raw byte of the wire)
        String subnqn = nqnField(data, ConnectData.OFFSET_SUBNQN);
        if (subnqn == null) {
            REFUSED.warn(() -> "connect from " + q.peer() + " on " + q.port + " refused: a malformed subsystem NQN");
            Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectData.OFFSET_SUBNQN, true);
            return;
        }
        String hostnqn = nqnField(data, ConnectData.OFFSET_HOSTNQN);
        if (hostnqn == null) {
            REFUSED.warn(() -> "connect from " + q.peer() + " to " + subnqn + " on " + q.port + " refused: a malformed host NQN");
            Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectData.OFFSET_HOSTNQN, true);
            return;
        }
        UUID hostid = ConnectData.hostUuid(data);
        int cntlid = ConnectData.cntlid(data);
        Subsystem s = target.subsystemFor(subnqn, q.port);
        if (s == null) {
            REFUSED.warn(() -> "connect from " + hostnqn + " at " + q.peer() + " refused: no subsystem " + subnqn + " on " + q.port);
            Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectData.OFFSET_SUBNQN, true);
            return;
        }
        if (!s.allows(hostnqn)) {
            REFUSED.warn(() -> "connect from " + hostnqn + " at " + q.peer() + " to " + subnqn + " refused: host not allowed");
            Fabrics.failConnect(r, Status.CONNECT_INVALID_HOST, (int) ConnectData.OFFSET_HOSTNQN, true);
            return;
        }
        String[] tls = q.tlsIdentity();
        if (tls != null && !(tls[0].equals(hostnqn) && tls[1].equals(subnqn))) {
            REFUSED.warn(() -> "connect from " + hostnqn + " at " + q.peer() + " to " + subnqn
                    + " refused: the TLS session's PSK identity is of " + tls[0] + " for " + tls[1]);
            Fabrics.failConnect(r, Status.CONNECT_INVALID_HOST, (int) ConnectData.OFFSET_HOSTNQN, true);
            return;
        }
        if (qid == 0) {
            TargetConfig.DhchapConfig dhchap = dhchapFor(s, hostnqn);
            if (dhchap == null && requiresDhchap(s)) {
                REFUSED.warn(() -> "connect from " + hostnqn + " at " + q.peer() + " to " + subnqn
                        + " refused: the subsystem requires DH-HMAC-CHAP and the host has no dhchap_key");
                Fabrics.failConnect(r, Status.CONNECT_INVALID_HOST, (int) ConnectData.OFFSET_HOSTNQN, true);
                return;
            }
            if (cntlid != ConnectData.CNTLID_DYNAMIC) {
                refused(q, hostnqn, subnqn, "an admin queue Connect must ask for a dynamic controller (CNTLID FFFFh), not " + cntlid);
                Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectData.OFFSET_CNTLID, true);
                return;
            }
            if (sqsize > Controller.ADMIN_QUEUE_DEPTH - 1) {
                refused(q, hostnqn, subnqn, "admin queue SQSIZE " + sqsize + " over " + (Controller.ADMIN_QUEUE_DEPTH - 1));
                Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectCommand.OFFSET_SQSIZE, false);
                return;
            }
            long katoMs = Controller.boundKato(ConnectCommand.kato(sqe), s.isDiscovery(), target.options());
            if (katoMs < 0) {
                REFUSED.warn(() -> "connect from " + hostnqn + " at " + q.peer() + " to " + subnqn + " refused: KATO 0 (keep-alive is required)");
                Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectCommand.OFFSET_KATO, false);
                return;
            }
            Controller[] created = new Controller[1];
            int id = s.add(c -> created[0] = new Controller(target, s, c, hostnqn, hostid, q.port, q.peer(), katoMs));
            if (id < 0) {
                REFUSED.warn(() -> "connect from " + hostnqn + " at " + q.peer() + " to " + subnqn + " refused: no controller ID left");
                Fabrics.failConnect(r, Status.CONNECT_CTRL_BUSY, (int) ConnectData.OFFSET_CNTLID, true);
                return;
            }
            Controller c = created[0];
            c.dhchap(dhchap);
            c.install(0, q);
            size(q, c, 0, sqsize, sqFlowDisabled);
            r.dw0 = ConnectCommand.successDw0(id) | (dhchap != null ? ConnectCommand.AUTHREQ_ATR : 0);
            LOG.log(System.Logger.Level.INFO, c + ": connected via " + q.port + " (host id " + hostid + ", KATO " + katoMs + " ms)");
            return;
        }
        Controller c = s.find(cntlid);
        if (c != null && (!c.hostnqn().equals(hostnqn) || !c.hostid().equals(hostid))) {
            // answered as an unknown CNTLID: a probe learns nothing about other hosts' controllers
            Controller other = c;
            REFUSED.warn(() -> "I/O queue connect from " + hostnqn + " at " + q.peer() + " (host id " + hostid + ") to "
                    + other + " (host id " + other.hostid() + ") refused: another host's controller");
            c = null;
        } else if (c == null) {
            refused(q, hostnqn, subnqn, "I/O queue " + qid + " for controller " + cntlid + ", which does not exist");
        }
        if (c == null) {
            Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectData.OFFSET_CNTLID, true);
            return;
        }
        if (c.isDiscovery() || qid > Controller.MAX_IO_QUEUES) {
            refused(q, hostnqn, subnqn, "I/O queue " + qid + (c.isDiscovery() ? " on a discovery controller"
                    : " over the " + Controller.MAX_IO_QUEUES + " allowed"));
            Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectCommand.OFFSET_QID, false);
            return;
        }
        if (sqsize > Controller.MQES) {
            refused(q, hostnqn, subnqn, "I/O queue SQSIZE " + sqsize + " over MQES " + Controller.MQES);
            Fabrics.failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectCommand.OFFSET_SQSIZE, false);
            return;
        }
        if (!c.ready()) {
            refused(q, hostnqn, subnqn, "I/O queue " + qid + " before controller " + c.cntlid() + " was enabled");
            r.fail(Status.CMD_SEQ_ERROR, (int) ConnectCommand.OFFSET_QID);
            return;
        }
        if (!c.install(qid, q)) {
            refused(q, hostnqn, subnqn, "I/O queue " + qid + " of controller " + c.cntlid() + " is taken");
            r.fail(Status.CMD_SEQ_ERROR, (int) ConnectCommand.OFFSET_QID);
            return;
        }
        size(q, c, qid, sqsize, sqFlowDisabled);
        r.dw0 = ConnectCommand.successDw0(c.cntlid()) | (c.dhchap() != null ? ConnectCommand.AUTHREQ_ATR : 0);
    }

    /**
     * The DH-HMAC-CHAP settings {@code hostnqn} authenticates to {@code s} with, null for none: its host entry's,
     * unless the subsystem is open to any host without requiring authentication (nvmet: allow_any_host
     * authenticates nobody) or is the discovery subsystem. Read from the configuration as it is now.
     */
    TargetConfig.DhchapConfig dhchapFor(Subsystem s, String hostnqn) {
        if (s.isDiscovery() || (s.allowAnyHost() && !requiresDhchap(s))) {
            return null;
        }
        for (TargetConfig.HostConfig h : target.config().hosts()) {
            if (h.nqn().equals(hostnqn)) {
                return h.dhchap();
            }
        }
        return null;
    }

    private boolean requiresDhchap(Subsystem s) {
        if (s.isDiscovery()) {
            return false;
        }
        for (TargetConfig.SubsystemConfig sc : target.config().subsystems()) {
            if (sc.nqn().equals(s.nqn())) {
                return sc.dhchapRequired();
            }
        }
        return false;
    }

    private static void refused(QueuePair q, String hostnqn, String subnqn, String why) {
        REFUSED.warn(() -> "connect from " + hostnqn + " at " + q.peer() + " to " + subnqn + " refused: " + why);
    }

    /**
     * The NQN in the 256-byte Connect data field at {@code offset}, or null when it is not one: NUL-terminated
     * within the field, 1..223 bytes of UTF-8 (NVMe Base 2.0 §4.5) without control characters, in NQN form.
     */
    static String nqnField(MemorySegment data, long offset) {
        int length = -1;
        for (int i = 0; i < Nqn.FIELD_SIZE; i++) {
            if (data.get(Wire.U8, offset + i) == 0) {
                length = i;
                break;
            }
        }
        if (length <= 0 || length > Nqn.MAX_LENGTH) {
            return null;
        }
        byte[] bytes = new byte[length];
        MemorySegment.copy(data, Wire.U8, offset, bytes, 0, length);
        String nqn;
        try {
            nqn = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        if (nqn.codePoints().anyMatch(Character::isISOControl)) {
            return null; // C0, DEL and C1: newlines and escapes must not reach a log
        }
        return Nqn.isValid(nqn) ? nqn : null;
    }

    /** Binds {@code q} to {@code c} as queue {@code qid} and gives it SQSIZE + 1 + spare request slots. */
    private static void size(QueuePair q, Controller c, int qid, int sqsize, boolean sqFlowDisabled) {
        q.install(c, qid, sqsize, sqFlowDisabled, sqsize + 1 + SPARE_SLOTS);
    }
}
