package io.sanport.transport.rdma;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.verbs.IbvDeviceAttr;
import io.sanport.bindings.verbs.Verbs;
import io.sanport.hostdriver.MemoryRegistry;
import io.sanport.iop.Reactor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * One RDMA device context as RDMA CM hands it out ({@code rdma_cm_id->verbs}; librdmacm owns the context): its
 * protection domain, its limits, and per reactor the CQ/SRQ/memory regions connections on that reactor use
 * (nvmet's {@code nvmet_rdma_device}). Made and freed by the conductor.
 */
final class RdmaDevice {
    final Verbs verbs;
    final ControlVerbs control;
    final MemorySegment pd;
    final int maxQpWr;
    final int maxCqe;
    final int maxSrqWr;
    final int maxQpInitRdAtom;
    final String name;
    private final RdmaStats stats;
    private final Function<Reactor, MemoryRegistry> memory;
    private final Map<Reactor, RdmaReactor> reactors = new IdentityHashMap<>();

    /**
     * {@code memory}: each reactor's pool registry (the target's {@code memory(reactor)}), where the pool is
     * registered with this device's PD; {@code control}: {@link ControlVerbs#NATIVE}, or a fake provider's in tests.
     */
    RdmaDevice(MemorySegment context, RdmaStats stats, Function<Reactor, MemoryRegistry> memory, ControlVerbs control)
            throws ErrnoException {
        this.stats = stats;
        this.memory = memory;
        this.control = control;
        this.verbs = Verbs.of(context);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(IbvDeviceAttr.LAYOUT);
            control.ibv_query_device(verbs.context(), attr);
            maxQpWr = IbvDeviceAttr.max_qp_wr(attr);
            maxCqe = IbvDeviceAttr.max_cqe(attr);
            maxSrqWr = IbvDeviceAttr.max_srq_wr(attr);
            maxQpInitRdAtom = IbvDeviceAttr.max_qp_init_rd_atom(attr);
        }
        String n;
        try {
            n = control.ibv_get_device_name(verbs.context());
        } catch (RuntimeException e) {
            n = "device";
        }
        this.name = n;
        this.pd = control.ibv_alloc_pd(verbs.context());
    }

    /** The resources of {@code reactor} on this device, made on its first connection. */
    RdmaReactor reactor(Reactor reactor) throws IOException {
        RdmaReactor r = reactors.get(reactor);
        if (r == null) {
            r = RdmaReactor.create(this, reactor, stats.counters(reactor), memory.apply(reactor));
            reactors.put(reactor, r);
        }
        return r;
    }

    /** Frees what no connection uses any more; false when something still did and was left. */
    boolean close() {
        boolean all = true;
        for (RdmaReactor r : reactors.values()) {
            all &= r.destroy();
        }
        reactors.clear();
        if (all) {
            try {
                control.ibv_dealloc_pd(pd);
            } catch (ErrnoException e) {
                System.getLogger("sanport.rdma").log(System.Logger.Level.WARNING, name + ": " + e.getMessage());
                all = false;
            }
        }
        return all;
    }
}
