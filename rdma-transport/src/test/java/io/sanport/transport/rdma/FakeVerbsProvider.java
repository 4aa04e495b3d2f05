package io.sanport.transport.rdma;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.Native;
import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.verbs.IbvCompChannel;
import io.sanport.bindings.verbs.IbvContext;
import io.sanport.bindings.verbs.IbvContextOps;
import io.sanport.bindings.verbs.IbvDeviceAttr;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.IbvQp;
import io.sanport.bindings.verbs.IbvQpAttr;
import io.sanport.bindings.verbs.IbvRecvWr;
import io.sanport.bindings.verbs.IbvSendWr;
import io.sanport.bindings.verbs.IbvSge;
import io.sanport.bindings.verbs.IbvSrqInitAttr;
import io.sanport.bindings.verbs.IbvWc;
import io.sanport.bindings.verbs.Ibverbs;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A verbs provider made of Java, for driving the target's RDMA data path ({@link RdmaReactor}, {@link RdmaQueue})
 * without an RDMA device. The data path goes through a fake {@code ibv_context} whose {@code ops} are upcalls
 * into this object (as bindings' IbverbsTest does); the control path through {@link ControlVerbs}. The wire is a
 * loopback in memory: the other end of each QP is a {@link Host} the test drives.
 *
 * <ul>
 *   <li>{@code ibv_post_srq_recv}: receive buffers are queued per SRQ, in order;</li>
 *   <li>{@link Host#send}: a host SEND lands in the next receive buffer and completes it (IBV_WC_RECV with the
 *       QP number and byte length), as the NIC would;</li>
 *   <li>{@code ibv_post_send}: each WR is recorded ({@link Host#posted}) and executed against the host's memory:
 *       RDMA READ copies from a {@link Host#register registered} host region into the target's buffer, RDMA WRITE
 *       the other way, SEND/SEND_WITH_INV delivers its bytes to {@link Host#responses}; then a signaled WR
 *       completes. A bad rkey or range completes with IBV_WC_REM_ACCESS_ERR, a QP in ERR flushes
 *       (IBV_WC_WR_FLUSH_ERR), as on a real RC QP; a WR counts against the QP's {@link Host#limits} from its
 *       post until the target polls its completion (an unsignaled one: the next signaled WR's, as send queues
 *       complete in order): a post on a full send queue fails with ENOMEM, an RDMA READ
 *       beyond the READ depth is recorded as an error;</li>
 *   <li>the completion channel is an eventfd: a completion on an armed CQ ({@code ibv_req_notify_cq}) makes it
 *       readable, so the reactor's POLL_ADD fires exactly as for a real channel.</li>
 * </ul>
 * Calls come from the reactor thread (upcalls) and the test thread; all state is guarded by {@code this}.
 * Nothing thrown in an upcall may escape (it would kill the JVM): errors are recorded in {@link #errors()}.
 */
final class FakeVerbsProvider implements ControlVerbs, AutoCloseable {
    static final int MAX_QP_WR = 4096;
    static final int MAX_CQE = 1 << 16;
    static final int MAX_SRQ_WR = 4096;
    static final int MAX_QP_INIT_RD_ATOM = 16;
    /** What a host registers its I/O buffers with: the target reads and writes them. */
    static final int HOST_ACCESS = Ibverbs.IBV_ACCESS_LOCAL_WRITE | Ibverbs.IBV_ACCESS_REMOTE_READ
            | Ibverbs.IBV_ACCESS_REMOTE_WRITE;
    private static final FunctionDescriptor POST = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    private static final MethodHandle READ = Native.downcall(Native.LIBC, "read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));

    /** One work request as the target posted it. */
    record SendWr(int qpNum, long wrId, int opcode, int flags, long localAddr, int length, int lkey,
                  long remoteAddr, int rkey, int invalidateRkey) {
        boolean signaled() { return (flags & Ibverbs.IBV_SEND_SIGNALED) != 0; }
    }

    private record RecvWr(long wrId, long addr, int length, int lkey) {}

    /** {@code covers}: unsignaled WRs before it on the same send queue, whose slots its polling frees too. */
    private record Wc(long wrId, int status, int opcode, int byteLen, int qpNum, int invalidatedRkey, int covers) {
        Wc(long wrId, int status, int opcode, int byteLen, int qpNum, int invalidatedRkey) {
            this(wrId, status, opcode, byteLen, qpNum, invalidatedRkey, 0);
        }
    }

    private static final class Cq {
        final ArrayDeque<Wc> entries = new ArrayDeque<>();
        final MemorySegment channel;
        boolean armed;

        Cq(MemorySegment channel) { this.channel = channel; }
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment context;
    private final Map<Long, Cq> cqs = new HashMap<>();
    private final Map<Long, ArrayDeque<RecvWr>> srqs = new HashMap<>();
    private final Map<Integer, MemorySegment> regions = new HashMap<>(); // key (lkey = rkey) -> memory
    private final Map<Integer, Integer> access = new HashMap<>();         // key -> IBV_ACCESS_* it was registered with
    private final Map<Long, Host> byQp = new HashMap<>();
    private final List<Integer> channelFds = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private int nextKey = 0x100;
    private int nextQpNum = 0x11;
    private int outstandingCqEvents;

    FakeVerbsProvider() {
        context = arena.allocate(IbvContext.LAYOUT);
        try {
            op(IbvContextOps.POST_SEND, "postSend", POST);
            op(IbvContextOps.POST_RECV, "postRecv", POST);
            op(IbvContextOps.POST_SRQ_RECV, "postSrqRecv", POST);
            op(IbvContextOps.POLL_CQ, "pollCq", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
            op(IbvContextOps.REQ_NOTIFY_CQ, "reqNotifyCq", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private void op(long offset, String method, FunctionDescriptor fd) throws ReflectiveOperationException {
        MethodHandle h = MethodHandles.lookup().findVirtual(FakeVerbsProvider.class, method, fd.toMethodType()).bindTo(this);
        context.set(ADDRESS, IbvContext.OPS + offset, Native.LINKER.upcallStub(h, fd, arena));
    }

    /** The fake {@code ibv_context *}: what {@code rdma_cm_id->verbs} would be. */
    MemorySegment context() {
        return context;
    }

    /** What went wrong inside the provider (an upcall may not throw); a test asserts it stays empty. */
    synchronized List<String> errors() {
        return List.copyOf(errors);
    }

    /** Receive buffers posted to all SRQs and not consumed yet. */
    synchronized int postedReceives() {
        return srqs.values().stream().mapToInt(ArrayDeque::size).sum();
    }

    // ---------------------------------------------------------------- the host end of a QP

    /**
     * A QP on {@code cq} and {@code srq} (an {@link RdmaReactor}'s), in RTS, and the host at its other end; what
     * {@code rdma_create_qp} + the CM handshake give the target.
     */
    synchronized Host connect(MemorySegment cq, MemorySegment srq) {
        MemorySegment qp = arena.allocate(IbvQp.LAYOUT);
        qp.set(ADDRESS, IbvQp.CONTEXT, context);
        qp.set(ADDRESS, IbvQp.SEND_CQ, cq);
        qp.set(ADDRESS, IbvQp.RECV_CQ, cq);
        qp.set(ADDRESS, IbvQp.SRQ, srq);
        qp.set(JAVA_INT, IbvQp.QP_NUM, nextQpNum++);
        Host h = new Host(qp);
        byQp.put(qp.address(), h);
        return h;
    }

    /** The host of one QP: sends capsules, owns registered memory, sees what the target posted and sent. */
    final class Host {
        final MemorySegment qp;
        final int qpNum;
        private final BlockingQueue<byte[]> responses = new LinkedBlockingQueue<>();
        private final List<SendWr> posted = new ArrayList<>();
        private final List<Integer> invalidated = new ArrayList<>();
        private boolean error;
        private int inFlight, maxInFlight;          // send-queue WRs whose completion the target has not polled
        private int unsignaled;                     // unsignaled WRs since the last signaled one
        private int postCalls;
        private int readsInFlight, maxReadsInFlight; // of which RDMA READs
        private int sendQueueDepth = Integer.MAX_VALUE;
        private int readDepth = Integer.MAX_VALUE;

        private Host(MemorySegment qp) {
            this.qp = qp;
            this.qpNum = IbvQp.qp_num(qp);
        }

        /**
         * Host SENDs of {@code capsules}, all landed before the target can poll any: its next drain sees them
         * together (up to its poll batch), as a burst from a real host would arrive.
         */
        void sendAll(List<MemorySegment> capsules) {
            synchronized (FakeVerbsProvider.this) {
                for (MemorySegment c : capsules) {
                    send(c);
                }
            }
        }

        /**
         * The QP's limits as the target set them up: {@code max_send_wr} (a post beyond it fails with ENOMEM, as
         * a real provider's) and the RDMA READ depth accepted (more READs outstanding is a target bug: recorded).
         */
        void limits(int sendQueueDepth, int readDepth) {
            synchronized (FakeVerbsProvider.this) {
                this.sendQueueDepth = sendQueueDepth;
                this.readDepth = readDepth;
            }
        }

        /** The most send-queue WRs the target had posted on this QP and not yet seen complete (its SQ credits). */
        int maxInFlight() {
            synchronized (FakeVerbsProvider.this) {
                return maxInFlight;
            }
        }

        /** The most RDMA READs the target had outstanding on this QP at once (what the host's IRD must cover). */
        int maxReadsInFlight() {
            synchronized (FakeVerbsProvider.this) {
                return maxReadsInFlight;
            }
        }

        /** A host SEND of {@code capsule}: into the next posted receive buffer, completed with IBV_WC_RECV. */
        void send(MemorySegment capsule) {
            synchronized (FakeVerbsProvider.this) {
                ArrayDeque<RecvWr> rq = srqs.get(IbvQp.srq(qp).address());
                RecvWr r = rq == null ? null : rq.poll();
                if (r == null) {
                    throw new IllegalStateException("RNR: no receive buffer posted on the SRQ of QP " + qpNum);
                }
                if (capsule.byteSize() > r.length()) {
                    throw new IllegalStateException(capsule.byteSize() + " bytes into a " + r.length() + "-byte receive buffer");
                }
                MemorySegment.copy(capsule, 0, MemorySegment.ofAddress(r.addr()).reinterpret(r.length()), 0,
                        capsule.byteSize());
                complete(IbvQp.recv_cq(qp), new Wc(r.wrId(), Ibverbs.IBV_WC_SUCCESS, Ibverbs.IBV_WC_RECV,
                        (int) capsule.byteSize(), qpNum, 0));
            }
        }

        /** A receive of this QP that fails with {@code status}: the next posted receive buffer, completed in error. */
        void failReceive(int status) {
            synchronized (FakeVerbsProvider.this) {
                ArrayDeque<RecvWr> rq = srqs.get(IbvQp.srq(qp).address());
                RecvWr r = rq == null ? null : rq.poll();
                if (r == null) {
                    throw new IllegalStateException("RNR: no receive buffer posted on the SRQ of QP " + qpNum);
                }
                complete(IbvQp.recv_cq(qp), new Wc(r.wrId(), status, Ibverbs.IBV_WC_RECV, 0, qpNum, 0));
            }
        }

        /** Host memory the target may RDMA READ/WRITE with the returned key (an {@code ibv_reg_mr} on the host). */
        int register(MemorySegment region) {
            synchronized (FakeVerbsProvider.this) {
                int key = nextKey++;
                regions.put(key, region);
                access.put(key, HOST_ACCESS);
                return key;
            }
        }

        /** The next response SEND's bytes (a 16-byte CQE from a well-behaved target), or null after the timeout. */
        byte[] response(long timeout, TimeUnit unit) throws InterruptedException {
            return responses.poll(timeout, unit);
        }

        /** ibv_post_send calls on this QP (a chain of WRs is one). */
        int postCalls() {
            synchronized (FakeVerbsProvider.this) {
                return postCalls;
            }
        }

        /** Every WR the target posted on this QP, in order. */
        List<SendWr> posted() {
            synchronized (FakeVerbsProvider.this) {
                return List.copyOf(posted);
            }
        }

        /** Keys a SEND_WITH_INV invalidated. */
        List<Integer> invalidated() {
            synchronized (FakeVerbsProvider.this) {
                return List.copyOf(invalidated);
            }
        }

        /** True once the target moved the QP to ERR. */
        boolean inError() {
            synchronized (FakeVerbsProvider.this) {
                return error;
            }
        }

        /** Executes one WR against host memory; returns the completion status. Holds the provider's lock. */
        private int execute(SendWr wr) {
            if (error) {
                return Ibverbs.IBV_WC_WR_FLUSH_ERR;
            }
            MemorySegment local = localMemory(wr.localAddr(), wr.length(), wr.lkey());
            if (local == null) {
                return Ibverbs.IBV_WC_LOC_PROT_ERR;
            }
            if (wr.opcode() == Ibverbs.IBV_WR_RDMA_READ
                    && (access.getOrDefault(wr.lkey(), 0) & Ibverbs.IBV_ACCESS_LOCAL_WRITE) == 0) {
                errors.add("QP " + qpNum + ": an RDMA READ into an MR without LOCAL_WRITE");
                return Ibverbs.IBV_WC_LOC_PROT_ERR;
            }
            switch (wr.opcode()) {
                case Ibverbs.IBV_WR_RDMA_READ, Ibverbs.IBV_WR_RDMA_WRITE -> {
                    MemorySegment remote = remoteMemory(wr.remoteAddr(), wr.length(), wr.rkey(),
                            wr.opcode() == Ibverbs.IBV_WR_RDMA_READ ? Ibverbs.IBV_ACCESS_REMOTE_READ
                                    : Ibverbs.IBV_ACCESS_REMOTE_WRITE);
                    if (remote == null) {
                        return Ibverbs.IBV_WC_REM_ACCESS_ERR;
                    }
                    if (wr.opcode() == Ibverbs.IBV_WR_RDMA_READ) {
                        MemorySegment.copy(remote, 0, local, 0, wr.length());
                    } else {
                        MemorySegment.copy(local, 0, remote, 0, wr.length());
                    }
                }
                case Ibverbs.IBV_WR_SEND, Ibverbs.IBV_WR_SEND_WITH_INV -> {
                    if (wr.opcode() == Ibverbs.IBV_WR_SEND_WITH_INV) {
                        invalidated.add(wr.invalidateRkey());
                        regions.remove(wr.invalidateRkey());
                    }
                    responses.add(local.toArray(ValueLayout.JAVA_BYTE));
                }
                default -> {
                    errors.add("QP " + qpNum + ": unexpected opcode " + wr.opcode());
                    return Ibverbs.IBV_WC_LOC_PROT_ERR;
                }
            }
            return Ibverbs.IBV_WC_SUCCESS;
        }
    }

    private MemorySegment localMemory(long addr, int length, int lkey) {
        MemorySegment r = regions.get(lkey);
        // overflow-safe, as an HCA checks a region: a host may send any 64-bit address
        if (r == null || length < 0 || addr < r.address() || addr - r.address() > r.byteSize() - length) {
            errors.add("local access outside lkey 0x" + Integer.toHexString(lkey) + ": 0x" + Long.toHexString(addr)
                    + " + " + length);
            return null;
        }
        return r.asSlice(addr - r.address(), length);
    }

    /** The MR of {@code rkey} as a remote peer may reach it with {@code needed} (IBV_ACCESS_REMOTE_*), or null. */
    private MemorySegment remoteMemory(long addr, long length, int rkey, int needed) {
        MemorySegment r = regions.get(rkey);
        if (r == null || (access.getOrDefault(rkey, 0) & needed) != needed
                || length < 0 || addr < r.address() || addr - r.address() > r.byteSize() - length) {
            return null;
        }
        return r.asSlice(addr - r.address(), length);
    }

    private void complete(MemorySegment cq, Wc wc) {
        Cq c = cqs.get(cq.address());
        c.entries.add(wc);
        if (c.armed) {
            c.armed = false;
            signal(c.channel);
        }
    }

    private void signal(MemorySegment channel) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment one = a.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1);
            Libc.write(IbvCompChannel.fd(channel), one, a.allocate(Native.CAPTURE_LAYOUT));
        }
    }

    // ---------------------------------------------------------------- context->ops (upcalls; never throw)

    int postSend(MemorySegment qpPtr, MemorySegment wrPtr, MemorySegment badWr) {
        try {
            synchronized (this) {
                Host h = byQp.get(qpPtr.address());
                h.postCalls++;
                for (MemorySegment wr = wrPtr.reinterpret(IbvSendWr.SIZE); !wr.equals(MemorySegment.NULL);
                     wr = wr.get(ADDRESS, IbvSendWr.NEXT).reinterpret(IbvSendWr.SIZE)) {
                    MemorySegment sge = wr.get(ADDRESS, IbvSendWr.SG_LIST).reinterpret(IbvSge.SIZE);
                    int numSge = wr.get(JAVA_INT, IbvSendWr.NUM_SGE);
                    SendWr w = new SendWr(h.qpNum, IbvSendWr.wr_id(wr, 0), IbvSendWr.opcode(wr, 0),
                            wr.get(JAVA_INT, IbvSendWr.SEND_FLAGS),
                            numSge > 0 ? IbvSge.addr(sge, 0) : 0, numSge > 0 ? IbvSge.length(sge, 0) : 0,
                            numSge > 0 ? IbvSge.lkey(sge, 0) : 0,
                            IbvSendWr.rdma_remote_addr(wr, 0), IbvSendWr.rdma_rkey(wr, 0),
                            wr.get(JAVA_INT, IbvSendWr.INVALIDATE_RKEY));
                    if (h.inFlight >= h.sendQueueDepth) {
                        errors.add("QP " + h.qpNum + ": a WR posted on a full send queue (" + h.sendQueueDepth + ")");
                        badWr.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, wr);
                        return Errno.ENOMEM;
                    }
                    if (w.opcode() == Ibverbs.IBV_WR_RDMA_READ && h.readsInFlight >= h.readDepth) {
                        errors.add("QP " + h.qpNum + ": more RDMA READs outstanding than the depth granted ("
                                + h.readDepth + ")");
                    }
                    h.posted.add(w);
                    int status = h.execute(w);
                    if (status != Ibverbs.IBV_WC_SUCCESS && status != Ibverbs.IBV_WC_WR_FLUSH_ERR) {
                        h.error = true; // an RC QP goes to ERR on a failed WR
                    }
                    // every WR holds its send-queue slot until a completion at or after it is polled: an
                    // unsignaled one until the next signaled WR's (send queues complete in order)
                    h.maxInFlight = Math.max(h.maxInFlight, ++h.inFlight);
                    if (w.opcode() == Ibverbs.IBV_WR_RDMA_READ) {
                        h.maxReadsInFlight = Math.max(h.maxReadsInFlight, ++h.readsInFlight);
                    }
                    if (w.signaled() || status != Ibverbs.IBV_WC_SUCCESS) {
                        complete(IbvQp.send_cq(h.qp), new Wc(w.wrId(), status, wcOpcode(w.opcode()), w.length(),
                                h.qpNum, 0, h.unsignaled));
                        h.unsignaled = 0;
                    } else {
                        h.unsignaled++;
                        if (w.opcode() == Ibverbs.IBV_WR_RDMA_READ) {
                            errors.add("QP " + h.qpNum + ": an unsignaled RDMA READ (the target waits for its completion)");
                        }
                    }
                }
            }
            return 0;
        } catch (Throwable t) {
            return fail("post_send", t);
        }
    }

    int postRecv(MemorySegment qp, MemorySegment wr, MemorySegment badWr) {
        return fail("post_recv", new UnsupportedOperationException("the target receives on its SRQ only"));
    }

    int postSrqRecv(MemorySegment srq, MemorySegment wrPtr, MemorySegment badWr) {
        try {
            synchronized (this) {
                ArrayDeque<RecvWr> rq = srqs.get(srq.address());
                for (MemorySegment wr = wrPtr.reinterpret(IbvRecvWr.SIZE); !wr.equals(MemorySegment.NULL);
                     wr = wr.get(ADDRESS, IbvRecvWr.NEXT).reinterpret(IbvRecvWr.SIZE)) {
                    MemorySegment sge = wr.get(ADDRESS, IbvRecvWr.SG_LIST).reinterpret(IbvSge.SIZE);
                    rq.add(new RecvWr(IbvRecvWr.wr_id(wr, 0), IbvSge.addr(sge, 0), IbvSge.length(sge, 0),
                            IbvSge.lkey(sge, 0)));
                }
            }
            return 0;
        } catch (Throwable t) {
            return fail("post_srq_recv", t);
        }
    }

    int pollCq(MemorySegment cq, int n, MemorySegment wcArray) {
        try {
            synchronized (this) {
                Cq c = cqs.get(cq.address());
                MemorySegment wcs = wcArray.reinterpret(IbvWc.SIZE * n);
                int i = 0;
                for (; i < n && !c.entries.isEmpty(); i++) {
                    Wc w = c.entries.poll();
                    if (w.opcode() != Ibverbs.IBV_WC_RECV) {
                        Host h = byQpNum(w.qpNum());
                        if (h != null) {
                            h.inFlight -= 1 + w.covers();
                            if (w.opcode() == Ibverbs.IBV_WC_RDMA_READ) h.readsInFlight--;
                        }
                    }
                    MemorySegment e = wcs.asSlice(i * IbvWc.SIZE, IbvWc.SIZE);
                    e.fill((byte) 0);
                    e.set(JAVA_LONG, IbvWc.WR_ID, w.wrId());
                    e.set(JAVA_INT, IbvWc.STATUS, w.status());
                    e.set(JAVA_INT, IbvWc.OPCODE, w.opcode());
                    e.set(JAVA_INT, IbvWc.BYTE_LEN, w.byteLen());
                    e.set(JAVA_INT, IbvWc.QP_NUM, w.qpNum());
                    e.set(JAVA_INT, IbvWc.INVALIDATED_RKEY, w.invalidatedRkey());
                }
                return i;
            }
        } catch (Throwable t) {
            return fail("poll_cq", t);
        }
    }

    int reqNotifyCq(MemorySegment cq, int solicitedOnly) {
        try {
            synchronized (this) {
                Cq c = cqs.get(cq.address());
                c.armed = true;
                // as a real CQ may: completions already queued raise the event at once
                if (!c.entries.isEmpty()) {
                    c.armed = false;
                    signal(c.channel);
                }
            }
            return 0;
        } catch (Throwable t) {
            return fail("req_notify_cq", t);
        }
    }

    private Host byQpNum(int qpNum) {
        for (Host h : byQp.values()) {
            if (h.qpNum == qpNum) return h;
        }
        return null;
    }

    private synchronized int fail(String op, Throwable t) {
        errors.add(op + ": " + t);
        return Errno.EINVAL;
    }

    private static int wcOpcode(int wrOpcode) {
        return switch (wrOpcode) {
            case Ibverbs.IBV_WR_RDMA_READ -> Ibverbs.IBV_WC_RDMA_READ;
            case Ibverbs.IBV_WR_RDMA_WRITE -> Ibverbs.IBV_WC_RDMA_WRITE;
            default -> Ibverbs.IBV_WC_SEND;
        };
    }

    // ---------------------------------------------------------------- ControlVerbs

    @Override
    public void ibv_query_device(MemorySegment ctx, MemorySegment attr) {
        attr.set(JAVA_INT, IbvDeviceAttr.MAX_QP_WR, MAX_QP_WR);
        attr.set(JAVA_INT, IbvDeviceAttr.MAX_CQE, MAX_CQE);
        attr.set(JAVA_INT, IbvDeviceAttr.MAX_SRQ_WR, MAX_SRQ_WR);
        attr.set(JAVA_INT, IbvDeviceAttr.MAX_QP_INIT_RD_ATOM, MAX_QP_INIT_RD_ATOM);
        attr.set(JAVA_INT, IbvDeviceAttr.MAX_QP_RD_ATOM, MAX_QP_INIT_RD_ATOM);
    }

    @Override
    public String ibv_get_device_name(MemorySegment ctx) {
        return "fake0";
    }

    @Override
    public synchronized MemorySegment ibv_alloc_pd(MemorySegment ctx) {
        return arena.allocate(64);
    }

    @Override
    public void ibv_dealloc_pd(MemorySegment pd) {
    }

    @Override
    public synchronized MemorySegment ibv_create_comp_channel(MemorySegment ctx) throws ErrnoException {
        MemorySegment ch = arena.allocate(IbvCompChannel.LAYOUT);
        int fd = Libc.eventfd(0, Libc.EFD_NONBLOCK);
        channelFds.add(fd);
        ch.set(JAVA_INT, IbvCompChannel.FD, fd);
        return ch;
    }

    @Override
    public synchronized void ibv_destroy_comp_channel(MemorySegment channel) throws ErrnoException {
        int fd = IbvCompChannel.fd(channel);
        if (channelFds.remove((Integer) fd)) {
            Libc.close(fd);
        }
    }

    @Override
    public synchronized MemorySegment ibv_create_cq(MemorySegment ctx, int cqe, MemorySegment channel) {
        MemorySegment cq = arena.allocate(64);
        cqs.put(cq.address(), new Cq(channel));
        return cq;
    }

    @Override
    public synchronized void ibv_destroy_cq(MemorySegment cq) throws ErrnoException {
        if (outstandingCqEvents != 0) {
            throw new ErrnoException("ibv_destroy_cq", "fake CQ", Errno.EBUSY); // events not acked
        }
        cqs.remove(cq.address());
    }

    /** Reads the eventfd: EAGAIN when the channel has no event, as a non-blocking real channel. */
    @Override
    public void ibv_get_cq_event(MemorySegment channel) throws ErrnoException {
        long n;
        try (Arena a = Arena.ofConfined()) {
            n = (long) READ.invokeExact(IbvCompChannel.fd(channel), a.allocate(JAVA_LONG), 8L);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (n != 8) {
            throw new ErrnoException("ibv_get_cq_event", "fake channel", Errno.EAGAIN);
        }
        synchronized (this) {
            outstandingCqEvents++;
        }
    }

    @Override
    public synchronized void ibv_ack_cq_events(MemorySegment cq, int count) {
        outstandingCqEvents = Math.max(0, outstandingCqEvents - count);
    }

    @Override
    public synchronized MemorySegment ibv_create_srq(MemorySegment pd, MemorySegment initAttr) {
        MemorySegment srq = arena.allocate(64);
        srqs.put(srq.address(), new ArrayDeque<>());
        return srq;
    }

    @Override
    public synchronized void ibv_destroy_srq(MemorySegment srq) {
        srqs.remove(srq.address());
    }

    @Override
    public synchronized MemorySegment ibv_reg_mr(MemorySegment pd, MemorySegment region, int access) {
        MemorySegment mr = arena.allocate(IbvMr.LAYOUT);
        int key = nextKey++;
        mr.set(ADDRESS, IbvMr.PD, pd);
        mr.set(ADDRESS, IbvMr.ADDR, region);
        mr.set(JAVA_LONG, IbvMr.LENGTH, region.byteSize());
        mr.set(JAVA_INT, IbvMr.LKEY, key);
        mr.set(JAVA_INT, IbvMr.RKEY, key);
        regions.put(key, region);
        this.access.put(key, access);
        return mr;
    }

    @Override
    public synchronized void ibv_dereg_mr(MemorySegment mr) {
        regions.remove(IbvMr.lkey(mr));
        access.remove(IbvMr.lkey(mr));
    }

    /** The access flags the target registered {@code region} with (exactly that region), or -1 if it did not. */
    synchronized int access(MemorySegment region) {
        for (Map.Entry<Integer, MemorySegment> e : regions.entrySet()) {
            MemorySegment r = e.getValue();
            if (r.address() == region.address() && r.byteSize() == region.byteSize() && access.containsKey(e.getKey())) {
                return access.get(e.getKey());
            }
        }
        return -1;
    }

    /**
     * Whether any QP on the PD that knows (or guesses) {@code rkey} could RDMA READ or WRITE ({@code needed}:
     * IBV_ACCESS_REMOTE_READ / _WRITE) {@code length} bytes at {@code addr}: what the MR's access flags allow.
     */
    synchronized boolean remotelyAccessible(int rkey, long addr, long length, int needed) {
        return remoteMemory(addr, length, rkey, needed) != null;
    }

    /** Only the move to ERR the target makes: every WR posted after it flushes. */
    @Override
    public synchronized void ibv_modify_qp(MemorySegment qp, MemorySegment attr, int mask) {
        Host h = byQp.get(qp.address());
        if (h != null && (mask & Ibverbs.IBV_QP_STATE) != 0
                && attr.get(JAVA_INT, IbvQpAttr.QP_STATE) == Ibverbs.IBV_QPS_ERR) {
            h.error = true;
        }
    }

    @Override
    public void rdma_disconnect(MemorySegment id) {
        RuntimeException e;
        synchronized (this) {
            e = failDisconnect.remove(id.address()) ? new IllegalStateException("injected: rdma_disconnect failed") : null;
        }
        if (e != null) {
            throw e;
        }
    }

    // ---------------------------------------------------------------- RDMA CM, as the conductor sees it

    private final java.util.Set<Long> failDisconnect = new java.util.HashSet<>();
    private final Map<Long, Integer> rejected = new HashMap<>();   // cm_id -> nvme_rdma_cm_rej status
    private final List<Long> accepted = new ArrayList<>();
    private final List<Long> destroyedIds = new ArrayList<>();

    /** The next rdma_disconnect of {@code id} throws, as a failing CM call would. */
    synchronized void failDisconnect(MemorySegment id) {
        failDisconnect.add(id.address());
    }

    /** The status {@code id} was rejected with, or -1. */
    synchronized int rejectStatus(MemorySegment id) {
        return rejected.getOrDefault(id.address(), -1);
    }

    synchronized boolean accepted(MemorySegment id) {
        return accepted.contains(id.address());
    }

    synchronized boolean idDestroyed(MemorySegment id) {
        return destroyedIds.contains(id.address());
    }

    @Override
    public void rdma_ack_cm_event(MemorySegment event) {
    }

    @Override
    public synchronized void rdma_accept(MemorySegment id, MemorySegment param) {
        accepted.add(id.address());
    }

    @Override
    public synchronized void rdma_reject(MemorySegment id, MemorySegment privateData) {
        rejected.put(id.address(), io.sanport.nvme.rdma.RdmaCmReject.sts(privateData));
    }

    @Override
    public synchronized void rdma_destroy_id(MemorySegment id) {
        destroyedIds.add(id.address());
    }

    /** Frees the channels' eventfds and the fake structures; after every reactor using them has stopped. */
    @Override
    public synchronized void close() {
        for (int fd : channelFds) {
            try {
                Libc.close(fd);
            } catch (ErrnoException e) {
                errors.add("close: " + e.getMessage());
            }
        }
        channelFds.clear();
        arena.close();
    }
}
