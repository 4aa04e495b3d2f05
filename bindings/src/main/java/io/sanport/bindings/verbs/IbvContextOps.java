package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * {@code struct ibv_context_ops} ({@code <infiniband/verbs.h>}): the provider's table inside every
 * {@code ibv_context}. Only the data-path entries are live in rdma-core; the {@code _compat_*} slots are kept
 * for their offsets. {@link Verbs} reads post_send, post_recv, post_srq_recv, poll_cq and req_notify_cq.
 */
public final class IbvContextOps {
    private IbvContextOps() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("_compat_query_device"),
            ADDRESS.withName("_compat_query_port"),
            ADDRESS.withName("_compat_alloc_pd"),
            ADDRESS.withName("_compat_dealloc_pd"),
            ADDRESS.withName("_compat_reg_mr"),
            ADDRESS.withName("_compat_rereg_mr"),
            ADDRESS.withName("_compat_dereg_mr"),
            ADDRESS.withName("alloc_mw"),
            ADDRESS.withName("bind_mw"),
            ADDRESS.withName("dealloc_mw"),
            ADDRESS.withName("_compat_create_cq"),
            ADDRESS.withName("poll_cq"),
            ADDRESS.withName("req_notify_cq"),
            ADDRESS.withName("_compat_cq_event"),
            ADDRESS.withName("_compat_resize_cq"),
            ADDRESS.withName("_compat_destroy_cq"),
            ADDRESS.withName("_compat_create_srq"),
            ADDRESS.withName("_compat_modify_srq"),
            ADDRESS.withName("_compat_query_srq"),
            ADDRESS.withName("_compat_destroy_srq"),
            ADDRESS.withName("post_srq_recv"),
            ADDRESS.withName("_compat_create_qp"),
            ADDRESS.withName("_compat_query_qp"),
            ADDRESS.withName("_compat_modify_qp"),
            ADDRESS.withName("_compat_destroy_qp"),
            ADDRESS.withName("post_send"),
            ADDRESS.withName("post_recv"),
            ADDRESS.withName("_compat_create_ah"),
            ADDRESS.withName("_compat_destroy_ah"),
            ADDRESS.withName("_compat_attach_mcast"),
            ADDRESS.withName("_compat_detach_mcast"),
            ADDRESS.withName("_compat_async_event")
    ).withName("ibv_context_ops");

    public static final long POLL_CQ = Native.requireOffset(LAYOUT, "poll_cq");
    public static final long REQ_NOTIFY_CQ = Native.requireOffset(LAYOUT, "req_notify_cq");
    public static final long POST_SRQ_RECV = Native.requireOffset(LAYOUT, "post_srq_recv");
    public static final long POST_SEND = Native.requireOffset(LAYOUT, "post_send");
    public static final long POST_RECV = Native.requireOffset(LAYOUT, "post_recv");
}
