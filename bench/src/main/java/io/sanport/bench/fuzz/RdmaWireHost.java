package io.sanport.bench.fuzz;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.rdmacm.RdmaCmEvent;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.RdmaConnParam;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.IbvQp;
import io.sanport.bindings.verbs.IbvQpAttr;
import io.sanport.bindings.verbs.IbvQpInitAttr;
import io.sanport.bindings.verbs.IbvRecvWr;
import io.sanport.bindings.verbs.IbvSendWr;
import io.sanport.bindings.verbs.IbvSge;
import io.sanport.bindings.verbs.IbvWc;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.bindings.verbs.Verbs;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertySetCommand;
import io.sanport.nvme.rdma.RdmaCmRequest;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * One raw NVMe/RDMA queue of a fuzz case, with real verbs: an RC QP through the RDMA CM with whatever
 * {@code nvme_rdma_cm_req} it is given, its own PD, CQ and one registered buffer (a send area for capsules, 64-byte
 * receive buffers so an over-long response shows, and a data area the target may RDMA READ/WRITE). It sends the
 * bytes it is given as one SEND and reports what came back: a response, the queue ended (DISCONNECTED, or a
 * work completion in error), or nothing. It knows just enough to reach a fuzz case's starting state.
 */
final class RdmaWireHost implements AutoCloseable {
    /** The largest capsule sent: beyond the target's receive buffer (64 + 8 KiB), which must end the queue. */
    static final int SEND_AREA = 64 + 8192 + 128;
    static final int RECVS = 8;
    static final int RECV_SIZE = 64;
    static final int DATA_AREA = 16384;
    private static final long RECV_TAG = 1L << 32;
    private static final long SEND_TAG = 2L << 32;

    /** A CM reject: the target (or the CM) refused the connection. */
    static final class Rejected extends IOException {
        final int nvmeRdmaStatus;

        Rejected(String message, int nvmeRdmaStatus) {
            super(message);
            this.nvmeRdmaStatus = nvmeRdmaStatus;
        }
    }

    /** What {@link #await} saw: a response's CQE (16 bytes, or its real length when not 16), or the queue's end. */
    record Reply(byte[] cqe, String ended) {
        boolean isEnded() { return ended != null; }

        int status() { return CompletionQueueEntry.status(MemorySegment.ofArray(cqe)); }

        int dw0() { return CompletionQueueEntry.dw0(MemorySegment.ofArray(cqe)); }
    }

    private final Arena arena = Arena.ofShared();
    private final LinkedBlockingQueue<Integer> events = new LinkedBlockingQueue<>();
    private final MemorySegment buf;
    private final MemorySegment wc;
    private final MemorySegment sendWr;
    private final MemorySegment sendSge;
    private final MemorySegment recvWr;
    private final MemorySegment recvSge;
    private final MemorySegment bad;
    private final String peer;
    private MemorySegment id;
    private MemorySegment pd;
    private MemorySegment cq;
    private MemorySegment mr;
    private MemorySegment qp;
    private Verbs verbs;
    private int lkey;
    private int rkey;
    private volatile boolean disconnected;
    private boolean established;
    private int nextCid = 1;
    int cntlid = -1;

    private RdmaWireHost(String peer) {
        this.peer = peer;
        buf = arena.allocate(SEND_AREA + (long) RECVS * RECV_SIZE + DATA_AREA, 4096);
        wc = arena.allocate(IbvWc.LAYOUT.byteSize() * 4, 8);
        sendWr = arena.allocate(IbvSendWr.LAYOUT);
        sendSge = arena.allocate(IbvSge.LAYOUT);
        recvWr = arena.allocate(IbvRecvWr.LAYOUT);
        recvSge = arena.allocate(IbvSge.LAYOUT);
        bad = arena.allocate(ADDRESS);
    }

    /**
     * Connects with {@code request} (32 bytes, or shorter/mutated) as the CM private data; throws {@link Rejected}
     * on a reject, IOException when the CM fails otherwise or nothing happens within {@code timeoutMillis}.
     */
    static RdmaWireHost open(String address, int port, byte[] request, int timeoutMillis) throws IOException {
        RdmaWireHost h = new RdmaWireHost(address + ":" + port);
        try {
            h.connect(address, port, request, timeoutMillis);
            return h;
        } catch (IOException | RuntimeException e) {
            h.close();
            throw e;
        }
    }

    /** The valid private data of queue {@code qid} with {@code size} entries (HRQSIZE = size, HSQSIZE = size - 1). */
    static byte[] request(int qid, int size) {
        MemorySegment r = MemorySegment.ofArray(new byte[(int) RdmaCmRequest.SIZE]);
        RdmaCmRequest.set(r, qid, size, size - 1, 0);
        return r.toArray(ValueLayout.JAVA_BYTE);
    }

    private void connect(String address, int port, byte[] request, int timeoutMillis) throws IOException {
        String unavailable = Rdmacm.unavailableReason();
        if (unavailable != null) throw new IOException("NVMe/RDMA needs librdmacm: " + unavailable);
        if (!(InetAddress.getByName(address) instanceof Inet4Address ip)) throw new IOException(address + ": IPv4 only");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        CmEvents cm = CmEvents.get();
        id = Rdmacm.rdma_create_id(cm.channel, MemorySegment.NULL, Rdmacm.RDMA_PS_TCP);
        cm.listeners.put(id.address(), this);
        MemorySegment sin = arena.allocate(SockaddrIn.LAYOUT);
        SockaddrIn.sin_family(sin, Libc.AF_INET);
        SockaddrIn.sin_port(sin, port);
        SockaddrIn.sin_addr(sin, ip.getAddress());
        Rdmacm.rdma_resolve_addr(id, MemorySegment.NULL, sin, 3000);
        await(Rdmacm.RDMA_CM_EVENT_ADDR_RESOLVED, deadline, "address resolution");
        MemorySegment context = RdmaCmId.verbs(id);
        verbs = Verbs.of(context);
        pd = Ibverbs.ibv_alloc_pd(context);
        cq = Ibverbs.ibv_create_cq(context, 4 * RECVS, MemorySegment.NULL, MemorySegment.NULL, 0);
        MemorySegment init = arena.allocate(IbvQpInitAttr.LAYOUT);
        IbvQpInitAttr.send_cq(init, cq);
        IbvQpInitAttr.recv_cq(init, cq);
        IbvQpInitAttr.cap(init, RECVS, RECVS, 1, 1, 0);
        IbvQpInitAttr.qp_type(init, Ibverbs.IBV_QPT_RC);
        Rdmacm.rdma_create_qp(id, pd, init);
        qp = IbvQp.of(RdmaCmId.qp(id));
        mr = Ibverbs.ibv_reg_mr(pd, buf, Ibverbs.IBV_ACCESS_LOCAL_WRITE | Ibverbs.IBV_ACCESS_REMOTE_READ
                | Ibverbs.IBV_ACCESS_REMOTE_WRITE);
        lkey = IbvMr.lkey(mr);
        rkey = IbvMr.rkey(mr);
        for (int i = 0; i < RECVS; i++) postRecv(i);
        Rdmacm.rdma_resolve_route(id, 3000);
        await(Rdmacm.RDMA_CM_EVENT_ROUTE_RESOLVED, deadline, "route resolution");
        MemorySegment pdata = arena.allocate(Math.max(1, request.length));
        MemorySegment.copy(request, 0, pdata, ValueLayout.JAVA_BYTE, 0, request.length);
        MemorySegment param = arena.allocate(RdmaConnParam.LAYOUT);
        RdmaConnParam.private_data(param, 0, pdata.asSlice(0, request.length));
        RdmaConnParam.responder_resources(param, 0, 16);
        RdmaConnParam.initiator_depth(param, 0, 0);
        RdmaConnParam.flow_control(param, 0, 1);
        RdmaConnParam.retry_count(param, 0, 7);
        RdmaConnParam.rnr_retry_count(param, 0, 7);
        Rdmacm.rdma_connect(id, param);
        await(Rdmacm.RDMA_CM_EVENT_ESTABLISHED, deadline, "connect");
        established = true;
    }

    /** The private data of a REJECTED event (an nvme_rdma_cm_rej when the target refused). */
    private volatile byte[] rejectData = new byte[0];

    private void await(int wanted, long deadline, String what) throws IOException {
        Integer e;
        try {
            e = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new IOException(peer + ": interrupted during " + what);
        }
        if (e == null) throw new IOException(peer + ": " + what + " timed out");
        if (e == wanted) return;
        if (e == Rdmacm.RDMA_CM_EVENT_REJECTED) {
            byte[] p = rejectData;
            // nvme_rdma_cm_rej: recfmt (2 bytes), sts (2 bytes)
            int sts = p.length >= 4 ? (p[2] & 0xFF) | (p[3] & 0xFF) << 8 : -1;
            throw new Rejected(peer + ": connect rejected, NVMe/RDMA status " + (sts < 0 ? "none" : "0x" + Integer.toHexString(sts)), sts);
        }
        throw new IOException(peer + ": " + what + " failed: " + Rdmacm.eventName(e));
    }

    /** On the CM thread. */
    private void event(int type, byte[] privateData) {
        if (type == Rdmacm.RDMA_CM_EVENT_REJECTED) rejectData = privateData;
        if (type == Rdmacm.RDMA_CM_EVENT_DISCONNECTED || type == Rdmacm.RDMA_CM_EVENT_TIMEWAIT_EXIT
                || type == Rdmacm.RDMA_CM_EVENT_DEVICE_REMOVAL) {
            disconnected = true;
        }
        events.offer(type);
    }

    private void postRecv(int i) throws IOException {
        IbvSge.set(recvSge, 0, buf.address() + SEND_AREA + (long) i * RECV_SIZE, RECV_SIZE, lkey);
        IbvRecvWr.wr_id(recvWr, 0, RECV_TAG | i);
        IbvRecvWr.sg_list(recvWr, 0, recvSge, 1);
        int rc = verbs.ibv_post_recv(qp, recvWr, bad);
        if (rc != 0) throw new IOException(peer + ": ibv_post_recv failed: " + rc);
    }

    // ---------------------------------------------------------------- the data area

    /** Address of the data area, which the target may read and write with {@link #rkey()}. */
    long dataAddress() { return buf.address() + SEND_AREA + (long) RECVS * RECV_SIZE; }

    MemorySegment data() { return buf.asSlice(SEND_AREA + (long) RECVS * RECV_SIZE, DATA_AREA); }

    int rkey() { return rkey; }

    int cid() {
        int c = nextCid;
        nextCid = nextCid == 0xFFF ? 1 : nextCid + 1;
        return c;
    }

    // ---------------------------------------------------------------- sending, and what comes back

    /** One signaled SEND of {@code capsule} (at most {@link #SEND_AREA} bytes; 0 bytes is a valid SEND too). */
    void send(byte[] capsule) throws IOException {
        int len = Math.min(capsule.length, SEND_AREA);
        MemorySegment.copy(capsule, 0, buf, ValueLayout.JAVA_BYTE, 0, len);
        IbvSge.set(sendSge, 0, buf.address(), len, lkey);
        IbvSendWr.sg_list(sendWr, 0, sendSge, 1);
        IbvSendWr.opcode(sendWr, 0, Ibverbs.IBV_WR_SEND);
        IbvSendWr.send_flags(sendWr, 0, Ibverbs.IBV_SEND_SIGNALED);
        IbvSendWr.wr_id(sendWr, 0, SEND_TAG);
        int rc = verbs.ibv_post_send(qp, sendWr, bad);
        if (rc != 0) throw new IOException(peer + ": ibv_post_send failed: " + rc);
    }

    /** The next response, the queue's end, or null when neither came within {@code millis}. */
    Reply await(long millis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            int n = verbs.ibv_poll_cq(cq, 4, wc);
            if (n < 0) throw new IOException(peer + ": ibv_poll_cq returned " + n);
            Reply r = null;
            for (int k = 0; k < n; k++) {
                long at = k * IbvWc.SIZE;
                long wrId = IbvWc.wr_id(wc, at);
                int status = IbvWc.status(wc, at);
                if (status != Ibverbs.IBV_WC_SUCCESS) {
                    if (r == null) r = new Reply(null, ((wrId & RECV_TAG) != 0 ? "receive" : "SEND") + " completed with "
                            + Ibverbs.ibv_wc_status_str(status));
                    continue;
                }
                if ((wrId & RECV_TAG) != 0 && r == null) {
                    int i = (int) wrId;
                    int len = IbvWc.byte_len(wc, at);
                    r = new Reply(buf.asSlice(SEND_AREA + (long) i * RECV_SIZE, Math.min(len, RECV_SIZE))
                            .toArray(ValueLayout.JAVA_BYTE), null);
                    postRecv(i);
                }
            }
            if (r != null) return r;
            if (disconnected) return new Reply(null, "DISCONNECTED");
            if (System.nanoTime() > deadline) return null;
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** Sends a valid command and waits for its completion; throws when the queue ended or stayed silent. */
    Reply command(byte[] capsule, int timeoutMillis, String what) throws IOException {
        send(capsule);
        Reply r = await(timeoutMillis);
        if (r == null) throw new IOException(peer + ": no completion for " + what + " within " + timeoutMillis + " ms");
        if (r.isEnded()) throw new IOException(peer + ": queue ended during " + what + ": " + r.ended());
        if (r.cqe().length != CompletionQueueEntry.SIZE) {
            throw new IOException(peer + ": response of " + r.cqe().length + " bytes to " + what);
        }
        if (!Status.isSuccess(r.status())) throw new IOException(peer + ": " + what + ": " + Status.describe(r.status()));
        return r;
    }

    // ---------------------------------------------------------------- valid capsules

    byte[] sqe(int opcode) {
        MemorySegment s = MemorySegment.ofArray(new byte[(int) SubmissionQueueEntry.SIZE]);
        SubmissionQueueEntry.opcode(s, opcode);
        SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG);
        SubmissionQueueEntry.cid(s, cid());
        SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, 0, SglDescriptor.ID_KEYED);
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    static void connectData(MemorySegment d, String subnqn, String hostnqn, int cntlid) {
        d.asSlice(0, ConnectCommand.DATA_LENGTH).fill((byte) 0);
        ConnectData.hostUuid(d, UUID.nameUUIDFromBytes(hostnqn.getBytes()));
        ConnectData.cntlid(d, cntlid);
        ConnectData.subnqn(d, subnqn);
        ConnectData.hostnqn(d, hostnqn);
    }

    /**
     * A Connect for {@code qid} of {@code sqsize} (0-based). Admin queue: its data through a keyed SGL into
     * the data area (as Linux does); I/O queue: in the capsule.
     */
    byte[] connectCapsule(int qid, int sqsize, String subnqn, String hostnqn, int cntlid) {
        MemorySegment s = MemorySegment.ofArray(sqe(FabricsCommand.OPCODE));
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
        ConnectCommand.qid(s, qid);
        ConnectCommand.sqsize(s, sqsize);
        ConnectCommand.kato(s, qid == 0 ? 30_000 : 0);
        if (qid == 0) {
            connectData(data(), subnqn, hostnqn, cntlid);
            SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, dataAddress(), ConnectCommand.DATA_LENGTH, rkey,
                    SglDescriptor.ID_KEYED);
            return s.toArray(ValueLayout.JAVA_BYTE);
        }
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, ConnectCommand.DATA_LENGTH, SglDescriptor.ID_DATA_OFFSET);
        MemorySegment c = MemorySegment.ofArray(new byte[64 + ConnectCommand.DATA_LENGTH]);
        MemorySegment.copy(s, 0, c, 0, 64);
        connectData(c.asSlice(64), subnqn, hostnqn, cntlid);
        return c.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Admin Connect (dynamic controller), CC.EN = 1, Number of Queues 3: the controller's id. */
    int adminQueue(String subnqn, String hostnqn, int timeoutMillis) throws IOException {
        cntlid = command(connectCapsule(0, 31, subnqn, hostnqn, ConnectData.CNTLID_DYNAMIC), timeoutMillis, "admin Connect").dw0() & 0xFFFF;
        MemorySegment set = MemorySegment.ofArray(sqe(FabricsCommand.OPCODE));
        FabricsCommand.fctype(set, FabricsCommand.FCTYPE_PROPERTY_SET);
        PropertySetCommand.ofst(set, Property.CC);
        PropertySetCommand.value(set, 0x00460001);
        command(set.toArray(ValueLayout.JAVA_BYTE), timeoutMillis, "Property Set CC.EN");
        MemorySegment queues = MemorySegment.ofArray(sqe(AdminOpcode.SET_FEATURES));
        SubmissionQueueEntry.cdw10(queues, FeatureId.NUM_QUEUES);
        SubmissionQueueEntry.cdw11(queues, FeatureId.numQueues(2, 2));
        command(queues.toArray(ValueLayout.JAVA_BYTE), timeoutMillis, "Set Features Number of Queues");
        return cntlid;
    }

    /** I/O Connect of {@code qid} with {@code sqsize} (0-based) to controller {@code cntlid}. */
    void ioQueue(int qid, int sqsize, String subnqn, String hostnqn, int cntlid, int timeoutMillis) throws IOException {
        command(connectCapsule(qid, sqsize, subnqn, hostnqn, cntlid), timeoutMillis, "I/O Connect of queue " + qid);
        this.cntlid = cntlid;
    }

    // ---------------------------------------------------------------- teardown

    /** DREQ (the QP to ERR), then QP, MR, CQ, PD and the id freed. */
    @Override
    public void close() {
        if (established && !disconnected) {
            try {
                Rdmacm.rdma_disconnect(id);
            } catch (ErrnoException e) {
                // already gone
            }
        }
        if (qp != null) {
            try {
                MemorySegment attr = arena.allocate(IbvQpAttr.LAYOUT);
                IbvQpAttr.qp_state(attr, Ibverbs.IBV_QPS_ERR);
                Ibverbs.ibv_modify_qp(qp, attr, Ibverbs.IBV_QP_STATE);
            } catch (ErrnoException e) {
                // already in ERR
            }
        }
        if (id != null) {
            CmEvents cm = CmEvents.instance;
            if (cm != null) cm.listeners.remove(id.address());
            if (qp != null) Rdmacm.rdma_destroy_qp(id);
        }
        try {
            if (mr != null) Ibverbs.ibv_dereg_mr(mr);
            if (cq != null) Ibverbs.ibv_destroy_cq(cq);
            if (pd != null) Ibverbs.ibv_dealloc_pd(pd);
            if (id != null) Rdmacm.rdma_destroy_id(id);
        } catch (ErrnoException e) {
            System.err.println(peer + ": fuzz queue teardown: " + e.getMessage());
        }
        arena.close();
    }

    /**
     * One CM event channel for every fuzz queue of the process and a daemon thread reading it: each event is
     * acknowledged at once (so {@code rdma_destroy_id} never waits) and handed to its queue.
     */
    private static final class CmEvents {
        static volatile CmEvents instance;
        final MemorySegment channel;
        final Map<Long, RdmaWireHost> listeners = new ConcurrentHashMap<>();

        private CmEvents(MemorySegment channel) {
            this.channel = channel;
            Thread.ofPlatform().daemon().name("rdma-fuzz-cm").start(this::run);
        }

        static synchronized CmEvents get() throws ErrnoException {
            if (instance == null) instance = new CmEvents(Rdmacm.rdma_create_event_channel());
            return instance;
        }

        private void run() {
            while (true) {
                MemorySegment event;
                try {
                    event = Rdmacm.rdma_get_cm_event(channel);
                } catch (ErrnoException e) {
                    if (e.errno() == 4) continue; // EINTR
                    System.err.println("rdma-fuzz-cm: " + e.getMessage());
                    return;
                }
                long id = RdmaCmEvent.id(event).address();
                int type = RdmaCmEvent.event(event);
                MemorySegment p = RdmaCmEvent.private_data(event);
                byte[] data = p == null || p.address() == 0 ? new byte[0] : p.toArray(ValueLayout.JAVA_BYTE);
                try {
                    Rdmacm.rdma_ack_cm_event(event);
                } catch (ErrnoException e) {
                    System.err.println("rdma-fuzz-cm: " + e.getMessage());
                }
                RdmaWireHost h = listeners.get(id);
                if (h != null) h.event(type, data);
            }
        }
    }
}
