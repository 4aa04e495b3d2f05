package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The I/O path's namespace lookup (an open table by NSID) and the stats slots a removed namespace or port leaves:
 * any 32-bit NSID a host sends finds its namespace or nothing, and the table's size follows the namespaces.
 */
class NamespaceTableTest {

    @Test
    void everyNsidFindsItsNamespaceOrNothing() throws Exception {
        try (CoreFixture f = new CoreFixture()) {
            Namespace one = f.target().subsystem(QueuePairTest.NQN).namespaces().get(1);
            int[] nsids = {1, 2, 7, 1000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 3 + (1 << 20)};
            Map<Integer, Namespace> map = new HashMap<>();
            for (int nsid : nsids) {
                map.put(nsid, copy(one, nsid));
            }
            Namespace[] t = Subsystem.table(map);
            assertTrue(t.length <= 4 * nsids.length, "sized by the count of namespaces, not by an NSID: " + t.length);
            for (int nsid : nsids) {
                assertSame(map.get(nsid), Subsystem.lookup(t, nsid), "nsid " + Integer.toUnsignedString(nsid));
            }
            for (int nsid : new int[] {0, 0xFFFFFFFF, 3, 8, 999, 0x80000001, Integer.MIN_VALUE + 1, 1 << 20}) {
                assertNull(Subsystem.lookup(t, nsid), "nsid " + Integer.toUnsignedString(nsid));
            }
            Random random = new Random(16);
            for (int i = 0; i < 200_000; i++) {
                int nsid = random.nextInt();
                assertSame(map.get(nsid), Subsystem.lookup(t, nsid));
            }
            assertNull(Subsystem.lookup(Subsystem.table(Map.of()), 1), "no namespaces: nothing, and no endless probe");
        }
    }

    /** A removed namespace's slot, and a removed port's once it has no queue left, go to the next one registered. */
    @Test
    void removedNamespacesAndPortsGiveTheirSlotsBack() throws Exception {
        try (CoreFixture f = new CoreFixture()) {
            Namespace one = f.target().subsystem(QueuePairTest.NQN).namespaces().get(1);
            TargetStats stats = new TargetStats(List.of());
            Namespace a = copy(one, 1);
            Namespace b = copy(one, 2);
            stats.register("s", a);
            stats.register("s", b);
            assertEquals(0, a.statsSlot);
            assertEquals(1, b.statsSlot);
            a.remove();
            Namespace c = copy(one, 3);
            stats.register("s", c);
            assertEquals(0, c.statsSlot, "the removed namespace's slot");
            Namespace d = copy(one, 4);
            stats.register("s", d);
            assertEquals(2, d.statsSlot, "no slot is free: a new one");
            assertEquals(List.of(2, 3, 4), stats.snapshot().namespaces().stream().map(TargetStats.NamespaceTotals::nsid)
                    .sorted().toList());

            Port p = new Port(1, new LoopTransport(), "ipv4", "127.0.0.1", "4420", List.of());
            stats.register(p);
            p.remove();
            Port q = new Port(2, new LoopTransport(), "ipv4", "127.0.0.1", "4421", List.of());
            stats.register(q);
            assertEquals(p.statsSlot, q.statsSlot, "a removed port without queues gives its slot");
            assertEquals(List.of(2), stats.snapshot().ports().stream().map(TargetStats.PortTotals::portId).toList());
        }
    }

    private static Namespace copy(Namespace like, int nsid) {
        return new Namespace(nsid, UUID.randomUUID(), new byte[16], like.device(), new int[] {0}, true);
    }
}
