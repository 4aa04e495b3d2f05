package io.sanport.hostdriver;

import static io.sanport.hostdriver.QueuePairTest.rw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.iop.BlockDevice;
import io.sanport.iop.Reactor;
import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import io.sanport.nvme.fabrics.PropertySetCommand;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What the host is told when the device fails: a failed Flush or FUA write cannot be retried into success (the
 * kernel reports a writeback error once), so it carries DNR and the namespace refuses further writes and flushes
 * until it is re-enabled; a shutdown whose flush failed is not reported clean.
 */
class DeviceFaultTest {

    static QueuePairTest.ScriptedQueue.Completion flush(QueuePairTest.Host h, QueuePairTest.ScriptedQueue io, int nsid) {
        return h.run(io, s -> {
            SubmissionQueueEntry.opcode(s, IoOpcode.FLUSH);
            SubmissionQueueEntry.nsid(s, nsid);
        }, null, false);
    }

    static void assertWriteFaultDnr(QueuePairTest.ScriptedQueue.Completion c, String what) {
        assertEquals(Status.WRITE_FAULT, c.status(), what);
        assertTrue(Status.dnr(c.word()), what + ": DNR, a retry cannot bring the data back");
    }

    @Test
    void aFailedFlushIsWriteFaultWithDnrAndStickyUntilTheNamespaceIsReEnabled() throws Exception {
        try (CoreFixture f = new CoreFixture()) {
            f.onReactor(() -> {
                QueuePairTest.Host h = f.host();
                QueuePairTest.ScriptedQueue io = h.connected();
                byte[] data = new byte[4096];
                data[0] = 9;
                assertEquals(Status.SUCCESS, h.run(io, rw(IoOpcode.WRITE, 1, 0, 4096, true), data, true).status());
                h.local.failNext = Status.WRITE_FAULT; // the device's EIO
                assertWriteFaultDnr(flush(h, io, 1), "the failed flush");
                long submitted = h.local.submitted;
                assertWriteFaultDnr(h.run(io, rw(IoOpcode.WRITE, 1, 8, 4096, true), data, true), "a write after it");
                assertWriteFaultDnr(flush(h, io, 1), "a flush after it (on the buffered path it would succeed)");
                assertWriteFaultDnr(h.run(io, s -> {
                    SubmissionQueueEntry.opcode(s, IoOpcode.WRITE_ZEROES);
                    SubmissionQueueEntry.nsid(s, 1);
                }, null, false), "write zeroes after it");
                assertEquals(submitted, h.local.submitted, "refused before the device");
                assertArrayEquals(data, h.run(io, rw(IoOpcode.READ, 1, 0, 4096, false), null, false).data(),
                        "reads go on");
                assertEquals(Status.SUCCESS, h.run(io, rw(IoOpcode.WRITE, CoreFixture.HIGH_NSID, 0, 4096, true), data, true)
                        .status(), "another namespace is not affected");

                Subsystem s = f.target().subsystem(QueuePairTest.NQN);
                s.setNamespaceEnabled(1, false);
                s.setNamespaceEnabled(1, true);
                assertEquals(Status.SUCCESS, h.run(io, rw(IoOpcode.WRITE, 1, 8, 4096, true), data, true).status(),
                        "re-enabled: writes again");
                assertEquals(Status.SUCCESS, flush(h, io, 1).status());
                return null;
            });
        }
    }

    @Test
    void aFailedFuaWriteIsWriteFaultWithDnrAndStickyButAPlainOneIsRetryable() throws Exception {
        try (CoreFixture f = new CoreFixture()) {
            f.onReactor(() -> {
                QueuePairTest.Host h = f.host();
                QueuePairTest.ScriptedQueue io = h.connected();
                byte[] data = new byte[4096];
                h.local.failNext = Status.WRITE_FAULT;
                QueuePairTest.ScriptedQueue.Completion plain = h.run(io, rw(IoOpcode.WRITE, 1, 0, 4096, true), data, true);
                assertEquals(Status.WRITE_FAULT, plain.status());
                assertFalse(Status.dnr(plain.word()), "a plain write's media error may clear on a retry");
                assertEquals(Status.SUCCESS, h.run(io, rw(IoOpcode.WRITE, 1, 0, 4096, true), data, true).status());

                h.local.failNext = Status.WRITE_FAULT;
                assertWriteFaultDnr(h.run(io, s -> {
                    rw(IoOpcode.WRITE, 1, 0, 4096, true).accept(s);
                    SubmissionQueueEntry.fua(s, true);
                }, data, true), "the failed FUA write");
                assertWriteFaultDnr(h.run(io, rw(IoOpcode.WRITE, 1, 0, 4096, true), data, true), "a write after it");
                return null;
            });
        }
    }

    static int csts(QueuePairTest.Host h, QueuePairTest.ScriptedQueue admin) {
        QueuePairTest.ScriptedQueue.Completion c = h.run(admin, s -> {
            PropertyGetCommand.opcode(s, FabricsCommand.OPCODE);
            PropertyGetCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_GET);
            PropertyGetCommand.ofst(s, Property.CSTS);
        }, null, false);
        assertEquals(Status.SUCCESS, c.status());
        return c.dw0();
    }

    static void shutdown(QueuePairTest.Host h, QueuePairTest.ScriptedQueue admin) {
        assertEquals(Status.SUCCESS, h.run(admin, s -> {
            PropertySetCommand.opcode(s, FabricsCommand.OPCODE);
            PropertySetCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_SET);
            PropertySetCommand.ofst(s, Property.CC);
            PropertySetCommand.value(s, Property.CC_EN | 6 << 16 | 4 << 20 | Property.CC_SHN_NORMAL);
        }, null, false).status());
    }

    @Test
    void aShutdownWhoseFlushFailedIsNotReportedClean() throws Exception {
        try (CoreFixture f = new CoreFixture()) {
            f.onReactor(() -> {
                QueuePairTest.Host h = f.host();
                QueuePairTest.ScriptedQueue good = CoreFixture.admin(h, QueuePairTest.NQN, 15_000);
                shutdown(h, good);
                assertEquals(Property.CSTS_SHST_COMPLETE, csts(h, good) & (Property.CSTS_SHST_MASK | Property.CSTS_CFS));

                QueuePairTest.ScriptedQueue admin = CoreFixture.admin(h, QueuePairTest.NQN, 15_000);
                h.local.failNext = Status.WRITE_FAULT; // the shutdown's flush of namespace 1
                shutdown(h, admin);
                int csts = csts(h, admin);
                assertTrue((csts & Property.CSTS_CFS) != 0, "CSTS.CFS: the shutdown lost data");
                assertNotEquals(Property.CSTS_SHST_COMPLETE, csts & Property.CSTS_SHST_MASK, "never a clean shutdown");
                return null;
            });
        }
    }

    /** Target.close flushes every device through every reactor's ring, not through reactor 0 only. */
    @Test
    void closingTheTargetFlushesOnEveryReactor() throws Exception {
        try (CoreFixture f = new CoreFixture(2, new TargetOptions(0, 50, 5000))) {
            List<Reactor> reactors = f.target().reactors();
            assertEquals(2, reactors.size());
            long[] before = reactors.stream().mapToLong(Reactor::completions).toArray();
            f.target().close();
            for (int i = 0; i < reactors.size(); i++) {
                assertTrue(reactors.get(i).completions() > before[i], "a flush completed on " + reactors.get(i));
            }
        }
    }

    /** DLFEAT "deallocated blocks read zeroes" only where the device kind guarantees it. */
    @Test
    void deallocateReadsZeroesIsClaimedOnlyWhereTheDeviceGuaranteesIt() throws Exception {
        try (CoreFixture f = new CoreFixture()) {
            MemorySegment b = Arena.ofAuto().allocate(4096);
            Admin.identifyNamespace(f.target().subsystem(QueuePairTest.NQN).namespaces().get(1), b);
            assertEquals(IdentifyNamespace.DLFEAT_READ_ZEROES, IdentifyNamespace.dlfeat(b) & 7, "RAM: a hole reads zeroes");

            BlockDevice disk = blockDeviceWithDiscard();
            Namespace ns = new Namespace(1, UUID.randomUUID(), new byte[16], disk, new int[] {0}, true);
            b.fill((byte) 0);
            Admin.identifyNamespace(ns, b);
            assertEquals(0, IdentifyNamespace.dlfeat(b) & 7, "a block device's discard guarantees nothing");
        }
    }

    /** A discard-capable block device that makes no promise about what deallocated blocks read. */
    static BlockDevice blockDeviceWithDiscard() {
        InvocationHandler h = (proxy, m, args) -> switch (m.getName()) {
            case "name" -> "/dev/fake";
            case "kind" -> "block";
            case "size" -> 1L << 30;
            case "logicalBlockSize", "physicalBlockSize" -> 512;
            case "supportsDiscard", "supportsWriteZeroes" -> true;
            case "readOnly", "directIo", "volatileWriteCache", "supportsFua" -> false;
            default -> m.isDefault() ? InvocationHandler.invokeDefault(proxy, m, args) : 0;
        };
        return (BlockDevice) Proxy.newProxyInstance(BlockDevice.class.getClassLoader(), new Class<?>[] {BlockDevice.class}, h);
    }
}
