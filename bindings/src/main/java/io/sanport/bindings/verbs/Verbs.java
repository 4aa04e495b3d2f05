package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Native;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The data path of one device context: {@code ibv_post_send}, {@code ibv_post_recv}, {@code ibv_post_srq_recv},
 * {@code ibv_poll_cq} and {@code ibv_req_notify_cq}, which {@code <infiniband/verbs.h>} defines static inline as
 * {@code qp->context->ops.post_send(...)} and so on. The provider's function pointers are read from
 * {@code context->ops} once, when this is made; each call then goes straight into the provider (librxe,
 * libmlx5...) with no C shim. As jextract does for function pointers, the downcall handles are static constants
 * taking the target address as their first argument, so the JIT sees one constant handle per signature.
 *
 * <p>Every QP, SRQ and CQ passed in must belong to this context (C would read {@code qp->context->ops}; the
 * provider is the same for all contexts of a device, so this only matters across devices). The methods return
 * what the provider returns — 0 or an errno value for the posts (on failure {@code *badWr} names the first WR
 * not posted), the number of completions or a negative value for {@code ibv_poll_cq} — and allocate nothing.
 */
public final class Verbs {
    private static final FunctionDescriptor POST = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    private static final MethodHandle POST_SEND = Native.LINKER.downcallHandle(POST);
    private static final MethodHandle POST_RECV = Native.LINKER.downcallHandle(POST);
    private static final MethodHandle POST_SRQ_RECV = Native.LINKER.downcallHandle(POST);
    private static final MethodHandle POLL_CQ = Native.LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle REQ_NOTIFY_CQ = Native.LINKER.downcallHandle(
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    private final MemorySegment context;
    private final MemorySegment postSend;
    private final MemorySegment postRecv;
    private final MemorySegment postSrqRecv;
    private final MemorySegment pollCq;
    private final MemorySegment reqNotifyCq;

    private Verbs(MemorySegment context) {
        this.context = context;
        this.postSend = require(context, IbvContextOps.POST_SEND, "post_send");
        this.postRecv = require(context, IbvContextOps.POST_RECV, "post_recv");
        this.postSrqRecv = IbvContext.op(context, IbvContextOps.POST_SRQ_RECV);
        this.pollCq = require(context, IbvContextOps.POLL_CQ, "poll_cq");
        this.reqNotifyCq = require(context, IbvContextOps.REQ_NOTIFY_CQ, "req_notify_cq");
    }

    /** Resolves the data-path entries of {@code context} (an {@code ibv_context *}, e.g. {@code rdma_cm_id->verbs}). */
    public static Verbs of(MemorySegment context) {
        if (context.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("no device context (NULL ibv_context)");
        }
        return new Verbs(IbvContext.of(context));
    }

    private static MemorySegment require(MemorySegment context, long op, String name) {
        MemorySegment fn = IbvContext.op(context, op);
        if (fn.equals(MemorySegment.NULL)) {
            throw new UnsupportedOperationException("the verbs provider of this device has no " + name);
        }
        return fn;
    }

    public MemorySegment context() {
        return context;
    }

    /** Posts a chain of {@link IbvSendWr}s to the QP's send queue. */
    public int ibv_post_send(MemorySegment qp, MemorySegment wr, MemorySegment badWr) {
        try {
            return (int) POST_SEND.invokeExact(postSend, qp, wr, badWr);
        } catch (Throwable t) {
            throw Ibverbs.rethrow(t);
        }
    }

    /** Posts a chain of {@link IbvRecvWr}s to the QP's own receive queue. */
    public int ibv_post_recv(MemorySegment qp, MemorySegment wr, MemorySegment badWr) {
        try {
            return (int) POST_RECV.invokeExact(postRecv, qp, wr, badWr);
        } catch (Throwable t) {
            throw Ibverbs.rethrow(t);
        }
    }

    /** Posts a chain of {@link IbvRecvWr}s to a shared receive queue. */
    public int ibv_post_srq_recv(MemorySegment srq, MemorySegment wr, MemorySegment badWr) {
        if (postSrqRecv.equals(MemorySegment.NULL)) {
            throw new UnsupportedOperationException("the verbs provider of this device has no SRQ support");
        }
        try {
            return (int) POST_SRQ_RECV.invokeExact(postSrqRecv, srq, wr, badWr);
        } catch (Throwable t) {
            throw Ibverbs.rethrow(t);
        }
    }

    /** Moves up to {@code numEntries} completions into {@code wc} (an array of {@link IbvWc}); returns how many. */
    public int ibv_poll_cq(MemorySegment cq, int numEntries, MemorySegment wc) {
        try {
            return (int) POLL_CQ.invokeExact(pollCq, cq, numEntries, wc);
        } catch (Throwable t) {
            throw Ibverbs.rethrow(t);
        }
    }

    /** Arms the CQ: its channel gets one event at the next (solicited, if asked) completion. Then poll again. */
    public int ibv_req_notify_cq(MemorySegment cq, int solicitedOnly) {
        try {
            return (int) REQ_NOTIFY_CQ.invokeExact(reqNotifyCq, cq, solicitedOnly);
        } catch (Throwable t) {
            throw Ibverbs.rethrow(t);
        }
    }
}
