package io.sanport.client;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.Ibverbs;
import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;

/**
 * Long-lived MRs over callers' I/O buffers, for keyed SGL descriptors (0x40) the target RDMA-READs from and
 * RDMA-WRITEs to. A buffer is registered once (rounded out to whole pages) and found again by address range, so
 * a caller that reuses its buffers (every benchmark, every cache) pays {@code ibv_reg_mr} once per buffer and
 * nothing per I/O.
 * <p>
 * Staleness: an MR pins the pages that were mapped when it was made; if the memory is freed and the address
 * reused, the MR would point at the old pages. So an entry remembers the registering segment's scope (weakly, so
 * the cache never keeps an {@code Arena.ofAuto()} alive) and is only used while that scope is alive; while it is,
 * the pages cannot have been unmapped, and glibc never returns a page that still holds a live allocation. Segments
 * made from raw addresses with the global scope are trusted to stay mapped.
 * <p>
 * Entries in use by a command are refcounted; unused ones are dropped when stale and, above {@link #MAX_ENTRIES},
 * least recently used first. One lock: lookups are a short scan of a small list.
 */
final class MemoryRegionCache {
    static final int MAX_ENTRIES = 64;
    private static final long PAGE = 4096;
    private static final int ACCESS = Ibverbs.IBV_ACCESS_LOCAL_WRITE | Ibverbs.IBV_ACCESS_REMOTE_READ
            | Ibverbs.IBV_ACCESS_REMOTE_WRITE;

    static final class Region {
        final long address;
        final long length;
        final WeakReference<MemorySegment.Scope> scope;
        final MemorySegment mr;
        final int rkey;
        int users;
        long lastUse;

        Region(long address, long length, MemorySegment.Scope scope, MemorySegment mr) {
            this.address = address;
            this.length = length;
            this.scope = new WeakReference<>(scope);
            this.mr = mr;
            this.rkey = IbvMr.rkey(mr);
        }

        boolean contains(long a, long n) {
            return a >= address && a + n <= address + length;
        }

        boolean live() {
            MemorySegment.Scope s = scope.get();
            return s != null && s.isAlive();
        }
    }

    private final MemorySegment pd;
    private final List<Region> regions = new ArrayList<>();
    private long clock;

    MemoryRegionCache(MemorySegment pd) {
        this.pd = pd;
    }

    /** An MR covering {@code data}, registered now if none is cached; hand it back with {@link #release}. */
    synchronized Region acquire(MemorySegment data) throws ErrnoException {
        long a = data.address();
        long n = data.byteSize();
        for (int i = 0; i < regions.size(); i++) {
            Region r = regions.get(i);
            if (r.contains(a, n)) {
                if (r.live()) {
                    r.users++;
                    r.lastUse = ++clock;
                    return r;
                }
                if (r.users == 0) {
                    drop(i--);
                }
            }
        }
        long base = a & -PAGE;
        long end = (a + n + PAGE - 1) & -PAGE;
        MemorySegment mr = Ibverbs.ibv_reg_mr(pd, MemorySegment.ofAddress(base).reinterpret(end - base), ACCESS);
        Region r = new Region(base, end - base, data.scope(), mr);
        r.users = 1;
        r.lastUse = ++clock;
        regions.add(r);
        trim();
        return r;
    }

    synchronized void release(Region r) {
        r.users--;
    }

    private void trim() {
        for (int i = 0; i < regions.size(); i++) {
            Region r = regions.get(i);
            if (r.users == 0 && !r.live()) {
                drop(i--);
            }
        }
        while (regions.size() > MAX_ENTRIES) {
            int victim = -1;
            for (int i = 0; i < regions.size(); i++) {
                Region r = regions.get(i);
                if (r.users == 0 && (victim < 0 || r.lastUse < regions.get(victim).lastUse)) {
                    victim = i;
                }
            }
            if (victim < 0) {
                return; // all in use: grow, the commands holding them bound the list
            }
            drop(victim);
        }
    }

    private void drop(int i) {
        Region r = regions.remove(i);
        try {
            Ibverbs.ibv_dereg_mr(r.mr);
        } catch (ErrnoException e) {
            System.err.println("nvme-rdma: " + e.getMessage());
        }
    }

    /** Deregisters everything; the queue is quiesced (no command holds a region). */
    synchronized void close() {
        while (!regions.isEmpty()) {
            drop(regions.size() - 1);
        }
    }
}
