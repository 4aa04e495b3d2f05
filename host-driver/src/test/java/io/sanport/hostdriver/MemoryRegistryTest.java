package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.iop.BufferPool;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pool goes to each protection domain once; lookups answer for pool addresses only. */
class MemoryRegistryTest {

    @Test
    void registersOncePerDomainAndLooksAddressesUp() throws Exception {
        try (BufferPool pool = BufferPool.map(64 * 1024, 4)) {
            MemoryRegistry m = new MemoryRegistry(pool);
            List<Integer> accesses = new ArrayList<>();
            int[] closed = {0};
            Object pdA = new Object();
            Object pdB = new Object();
            MemoryRegistry.Registrar reg = (region, access) -> {
                assertEquals(pool.region().address(), region.address());
                accesses.add(access);
                return new MemoryRegistry.Registration(100 + accesses.size(), () -> closed[0]++);
            };
            assertEquals(101, m.registerPool(pdA, 7, reg));
            assertEquals(101, m.registerPool(pdA, 7, reg), "the same domain: no second registration");
            assertEquals(102, m.registerPool(pdB, 1, reg));
            assertEquals(List.of(7, 1), accesses, "the access flags reach the registrar as given");

            long third = pool.address(2);
            assertEquals(2, m.poolIndex(third + 100));
            assertEquals(MemoryRegistry.RING_BUFFER, m.ringBufferIndex(third));
            assertEquals(101, m.lkey(pdA, third));
            assertEquals(-1, m.lkey(new Object(), third));
            assertEquals(-1, m.poolIndex(pool.region().address() - 1));
            assertEquals(-1, m.lkey(pdA, pool.region().address() + pool.region().byteSize()));

            m.unregisterPool(pdA);
            m.unregisterPool(pdA);
            assertEquals(1, closed[0], "deregistered once");
            assertTrue(m.lkey(pdA, third) < 0);
        }
    }
}
