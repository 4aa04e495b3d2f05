package io.sanport.hostdriver;

import io.sanport.iop.BufferPool;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One reactor's pool of data buffers and where it is registered: once with the reactor's io_uring ring (the
 * iop registers the whole region as fixed buffer {@link #RING_BUFFER}) and once with each RDMA protection domain
 * a transport brings (its lkey). A transport looks an address up here instead of keeping its own registration.
 * The RDMA registration itself is the transport's function ({@link Registrar}), so the core needs no verbs.
 */
public final class MemoryRegistry {
    /** The ring's fixed-buffer index of the pool: iop registers the whole region as one buffer. */
    public static final int RING_BUFFER = 0;

    /** Registers a region with one protection domain (rdma-transport: {@code ibv_reg_mr}). */
    @FunctionalInterface
    public interface Registrar {
        /** Registers {@code region} with {@code access} flags; the result carries the lkey and how to undo it. */
        Registration register(MemorySegment region, int access) throws IOException;
    }

    /** A region's registration with one domain: its local key, and the call that deregisters it. */
    public record Registration(int lkey, AutoCloseable deregister) {}

    private record Domain(Object pd, Registration registration) {}

    private final BufferPool pool;
    private final long base;
    private final long end;
    private final List<Domain> domains = new ArrayList<>(2);

    MemoryRegistry(BufferPool pool) {
        this.pool = pool;
        this.base = pool.region().address();
        this.end = base + pool.region().byteSize();
    }

    /** The pool this registry describes. */
    public BufferPool pool() {
        return pool;
    }

    /** The ring's fixed-buffer index for {@code address} (READ_FIXED / WRITE_FIXED), or -1 outside the pool. */
    public int ringBufferIndex(long address) {
        return address >= base && address < end ? RING_BUFFER : -1;
    }

    /** The index of the pool buffer holding {@code address} ({@link BufferPool#buffer}), or -1 outside the pool. */
    public int poolIndex(long address) {
        if (address < base || address >= end) {
            return -1;
        }
        return (int) ((address - base) / pool.bufferSize());
    }

    /**
     * Registers the pool with protection domain {@code pd} (compared by identity) through {@code registrar},
     * once: a second call for the same domain returns the first lkey. {@code access} is the verbs access mask,
     * the caller's to choose and visible here.
     */
    public synchronized int registerPool(Object pd, int access, Registrar registrar) throws IOException {
        for (Domain d : domains) {
            if (d.pd == pd) {
                return d.registration.lkey();
            }
        }
        Registration r = registrar.register(pool.region(), access);
        domains.add(new Domain(pd, r));
        return r.lkey();
    }

    /** The lkey of the pool buffer holding {@code address} in domain {@code pd}; -1 when not registered there. */
    public synchronized int lkey(Object pd, long address) {
        if (address < base || address >= end) {
            return -1;
        }
        for (Domain d : domains) {
            if (d.pd == pd) {
                return d.registration.lkey();
            }
        }
        return -1;
    }

    /** Deregisters the pool from {@code pd} (the domain is going away); nothing when it was not registered. */
    public synchronized void unregisterPool(Object pd) throws Exception {
        for (int i = 0; i < domains.size(); i++) {
            if (domains.get(i).pd == pd) {
                domains.remove(i).registration.deregister().close();
                return;
            }
        }
    }
}
