package io.sanport.transport.rdma;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.bindings.verbs.IbvCompChannel;
import io.sanport.bindings.verbs.IbvContext;
import io.sanport.bindings.verbs.Ibverbs;
import java.lang.foreign.MemorySegment;

/**
 * The control-path verbs and RDMA CM calls the target makes: resources made and freed, memory registered, the
 * QP moved to ERR, connections accepted, refused and ended, CM events acknowledged. Each method is the libibverbs/librdmacm function of the
 * same name. The data path (post, poll, arm) goes through the device's {@code context->ops}
 * ({@link io.sanport.bindings.verbs.Verbs}), which a provider fills; libibverbs keeps these control calls in its
 * private ops, so a fake provider for tests supplies both halves, and {@link #NATIVE} is what runs for real.
 */
interface ControlVerbs {
    ControlVerbs NATIVE = new ControlVerbs() { };

    default void ibv_query_device(MemorySegment context, MemorySegment attr) throws ErrnoException {
        Ibverbs.ibv_query_device(context, attr);
    }

    default String ibv_get_device_name(MemorySegment context) {
        return Ibverbs.ibv_get_device_name(IbvContext.device(context));
    }

    default MemorySegment ibv_alloc_pd(MemorySegment context) throws ErrnoException {
        return Ibverbs.ibv_alloc_pd(context);
    }

    default void ibv_dealloc_pd(MemorySegment pd) throws ErrnoException {
        Ibverbs.ibv_dealloc_pd(pd);
    }

    /** A channel readable as an {@link IbvCompChannel} (its fd is polled on the reactor's ring). */
    default MemorySegment ibv_create_comp_channel(MemorySegment context) throws ErrnoException {
        return Ibverbs.ibv_create_comp_channel(context).reinterpret(IbvCompChannel.LAYOUT.byteSize());
    }

    default void ibv_destroy_comp_channel(MemorySegment channel) throws ErrnoException {
        Ibverbs.ibv_destroy_comp_channel(channel);
    }

    default MemorySegment ibv_create_cq(MemorySegment context, int cqe, MemorySegment channel) throws ErrnoException {
        return Ibverbs.ibv_create_cq(context, cqe, MemorySegment.NULL, channel, 0);
    }

    default void ibv_destroy_cq(MemorySegment cq) throws ErrnoException {
        Ibverbs.ibv_destroy_cq(cq);
    }

    /** Takes one event off the channel (non-blocking: EAGAIN when there is none). */
    default void ibv_get_cq_event(MemorySegment channel) throws ErrnoException {
        Ibverbs.ibv_get_cq_event(channel);
    }

    default void ibv_ack_cq_events(MemorySegment cq, int count) {
        Ibverbs.ibv_ack_cq_events(cq, count);
    }

    default MemorySegment ibv_create_srq(MemorySegment pd, MemorySegment initAttr) throws ErrnoException {
        return Ibverbs.ibv_create_srq(pd, initAttr);
    }

    default void ibv_destroy_srq(MemorySegment srq) throws ErrnoException {
        Ibverbs.ibv_destroy_srq(srq);
    }

    default MemorySegment ibv_reg_mr(MemorySegment pd, MemorySegment region, int access) throws ErrnoException {
        return Ibverbs.ibv_reg_mr(pd, region, access);
    }

    default void ibv_dereg_mr(MemorySegment mr) throws ErrnoException {
        Ibverbs.ibv_dereg_mr(mr);
    }

    default void ibv_modify_qp(MemorySegment qp, MemorySegment attr, int mask) throws ErrnoException {
        Ibverbs.ibv_modify_qp(qp, attr, mask);
    }

    default void rdma_disconnect(MemorySegment id) throws ErrnoException {
        Rdmacm.rdma_disconnect(id);
    }

    default void rdma_ack_cm_event(MemorySegment event) throws ErrnoException {
        Rdmacm.rdma_ack_cm_event(event);
    }

    default void rdma_accept(MemorySegment id, MemorySegment param) throws ErrnoException {
        Rdmacm.rdma_accept(id, param);
    }

    default void rdma_reject(MemorySegment id, MemorySegment privateData) throws ErrnoException {
        Rdmacm.rdma_reject(id, privateData);
    }

    default void rdma_destroy_id(MemorySegment id) throws ErrnoException {
        Rdmacm.rdma_destroy_id(id);
    }
}
