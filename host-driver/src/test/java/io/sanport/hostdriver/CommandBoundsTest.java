package io.sanport.hostdriver;

import static io.sanport.hostdriver.QueuePairTest.inCapsule;
import static io.sanport.hostdriver.QueuePairTest.rw;
import static io.sanport.hostdriver.QueuePairTest.transport;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.ChangedNamespaceList;
import io.sanport.nvme.DsmRange;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.LogPageId;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.Wire;
import io.sanport.nvme.fabrics.DiscoveryLogPage;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every length, offset, range and NSID a host puts in an SQE is checked without overflow and unsigned, and a bad
 * one is answered with its status: never an exception on the reactor ([harden]).
 */
class CommandBoundsTest {
    CoreFixture f;

    @BeforeEach
    void start() throws Exception {
        f = new CoreFixture();
    }

    @AfterEach
    void stop() throws Exception {
        f.close();
    }

    static QueuePairTest.ScriptedQueue.Completion getLogPage(QueuePairTest.Host h, QueuePairTest.ScriptedQueue admin, int lid,
                                                          long lpo, int bytes) {
        return h.run(admin, s -> {
            SubmissionQueueEntry.opcode(s, AdminOpcode.GET_LOG_PAGE);
            SubmissionQueueEntry.cdw10(s, lid);
            SubmissionQueueEntry.logPageLength(s, bytes);
            s.set(Wire.U64, SubmissionQueueEntry.OFFSET_CDW12, lpo);
            transport(s, bytes);
        }, null, false);
    }

    /** LPO is a 64-bit unsigned offset: 2^63 and above were negative, passed "offset < size" and threw in the copy. */
    @Test
    void logPageOffsetsAtOrPastTheEndAreInvalidFieldOnDiscoveryAndIoControllers() throws Exception {
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            QueuePairTest.ScriptedQueue disc = CoreFixture.admin(h, Nqn.DISCOVERY, 0);
            QueuePairTest.ScriptedQueue.Completion header = getLogPage(h, disc, LogPageId.DISCOVERY, 0, 1024);
            assertEquals(Status.SUCCESS, header.status());
            long size = DiscoveryLogPage.SIZE + DiscoveryLogPage.ENTRY_SIZE
                    * DiscoveryLogPage.numrec(MemorySegment.ofArray(header.data()));
            for (long lpo : new long[] {1L << 63, -4L, (1L << 63) + 1024, size + 4}) {
                assertEquals(Status.INVALID_FIELD, getLogPage(h, disc, LogPageId.DISCOVERY, lpo, 1024).status(),
                        "LPO 0x" + Long.toHexString(lpo));
            }
            QueuePairTest.ScriptedQueue.Completion atEnd = getLogPage(h, disc, LogPageId.DISCOVERY, size, 1024);
            assertEquals(Status.SUCCESS, atEnd.status(), "LPO = size: nothing left, zeroes");
            assertArrayEquals(new byte[1024], atEnd.data());

            QueuePairTest.ScriptedQueue admin = CoreFixture.admin(h, QueuePairTest.NQN, 15_000);
            assertEquals(Status.INVALID_FIELD, getLogPage(h, admin, LogPageId.SMART, 1L << 63, 512).status());
            assertEquals(Status.INVALID_FIELD, getLogPage(h, admin, LogPageId.SMART, 516, 512).status());
            assertEquals(Status.SUCCESS, getLogPage(h, admin, LogPageId.SMART, 256, 512).status());
            // a transfer larger than the pool buffer: refused before a buffer is taken
            assertEquals(Status.INVALID_FIELD, getLogPage(h, admin, LogPageId.SMART, 0, 1 << 20).status());
            return null;
        });
    }

    /** NSIDs are 32-bit unsigned: 0x80000001 sorts after 1 in the active list, is NN, and takes I/O. */
    @Test
    void nsidsAbove0x7FFFFFFFAreUnsignedEverywhere() throws Exception {
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            QueuePairTest.ScriptedQueue admin = CoreFixture.admin(h, QueuePairTest.NQN, 15_000);
            QueuePairTest.ScriptedQueue.Completion ctrl = h.run(admin, s -> {
                SubmissionQueueEntry.opcode(s, AdminOpcode.IDENTIFY);
                SubmissionQueueEntry.cdw10(s, IdentifyCns.CTRL);
                transport(s, 4096);
            }, null, false);
            assertEquals(CoreFixture.HIGH_NSID, IdentifyController.nn(MemorySegment.ofArray(ctrl.data())), "NN");
            assertEquals(List.of(1, CoreFixture.HIGH_NSID), activeList(h, admin, 0));
            assertEquals(List.of(CoreFixture.HIGH_NSID), activeList(h, admin, 1));
            assertEquals(List.of(CoreFixture.HIGH_NSID), activeList(h, admin, 0x7FFFFFFF));
            assertEquals(List.of(), activeList(h, admin, CoreFixture.HIGH_NSID));

            Subsystem s = f.target().subsystem(QueuePairTest.NQN);
            s.setNamespaceEnabled(CoreFixture.HIGH_NSID, false);
            s.setNamespaceEnabled(1, false);
            QueuePairTest.ScriptedQueue.Completion changed = getLogPage(h, admin, LogPageId.CHANGED_NS, 0,
                    (int) ChangedNamespaceList.SIZE);
            MemorySegment list = MemorySegment.ofArray(changed.data());
            assertEquals(1, ChangedNamespaceList.nsid(list, 0), "changed namespaces in unsigned order");
            assertEquals(CoreFixture.HIGH_NSID, ChangedNamespaceList.nsid(list, 1));
            s.setNamespaceEnabled(1, true);
            s.setNamespaceEnabled(CoreFixture.HIGH_NSID, true);
            assertEquals("namespace 2147483649 (ram:16M)", s.namespaces().get(CoreFixture.HIGH_NSID).toString());

            QueuePairTest.ScriptedQueue io = h.newQueue();
            int cntlid = admin.queue.controller().cntlid();
            assertEquals(Status.SUCCESS, h.connect(io, 1, cntlid, QueuePairTest.NQN).status());
            byte[] data = new byte[4096];
            data[7] = 42;
            assertEquals(Status.SUCCESS, h.run(io, rw(IoOpcode.WRITE, CoreFixture.HIGH_NSID, 8, 4096, true), data, true)
                    .status());
            assertArrayEquals(data, h.run(io, rw(IoOpcode.READ, CoreFixture.HIGH_NSID, 8, 4096, false), null, false)
                    .data());
            return null;
        });
    }

    static List<Integer> activeList(QueuePairTest.Host h, QueuePairTest.ScriptedQueue admin, int after) {
        QueuePairTest.ScriptedQueue.Completion c = h.run(admin, s -> {
            SubmissionQueueEntry.opcode(s, AdminOpcode.IDENTIFY);
            SubmissionQueueEntry.nsid(s, after);
            SubmissionQueueEntry.cdw10(s, IdentifyCns.NS_ACTIVE_LIST);
            transport(s, 4096);
        }, null, false);
        assertEquals(Status.SUCCESS, c.status());
        List<Integer> ids = new ArrayList<>();
        MemorySegment b = MemorySegment.ofArray(c.data());
        for (int i = 0; i < 1024 && b.get(Wire.U32, 4L * i) != 0; i++) {
            ids.add(b.get(Wire.U32, 4L * i));
        }
        return ids;
    }

    /** SLBA + NLB, Write Zeroes and DSM ranges near 2^64, and property offsets near 2^32: statuses, no exception. */
    @Test
    void lbaRangesAndPropertyOffsetsNearTheTopOfTheirTypeAreRefused() throws Exception {
        f.onReactor(() -> {
            QueuePairTest.Host h = f.host();
            QueuePairTest.ScriptedQueue io = h.connected();
            long nsze = (16 << 20) / QueuePairTest.LBA;
            for (long slba : new long[] {Long.MIN_VALUE, -1L, -8L, nsze, nsze - 1}) {
                assertEquals(Status.LBA_RANGE, h.run(io, rw(IoOpcode.READ, 1, slba, 4096, false), null, false).status(),
                        "read at SLBA 0x" + Long.toHexString(slba));
                assertEquals(Status.LBA_RANGE, h.run(io, s -> {
                    SubmissionQueueEntry.opcode(s, IoOpcode.WRITE_ZEROES);
                    SubmissionQueueEntry.nsid(s, 1);
                    SubmissionQueueEntry.slba(s, slba);
                    SubmissionQueueEntry.nlb(s, 0xFFFF);
                }, null, false).status(), "write zeroes at SLBA 0x" + Long.toHexString(slba));
            }
            long[][] ranges = {{0, 0xFFFFFFFFL}, {-1L, 1}, {Long.MIN_VALUE, 8}, {nsze - 1, 0xFFFFFFFFL}};
            for (long[] range : ranges) {
                byte[] d = new byte[(int) DsmRange.SIZE];
                DsmRange.slba(MemorySegment.ofArray(d), range[0]);
                DsmRange.nlb(MemorySegment.ofArray(d), range[1]);
                assertEquals(Status.LBA_RANGE, h.run(io, s -> {
                    SubmissionQueueEntry.opcode(s, IoOpcode.DSM);
                    SubmissionQueueEntry.nsid(s, 1);
                    SubmissionQueueEntry.cdw11(s, SubmissionQueueEntry.DSM_AD);
                    inCapsule(s, d.length);
                }, d, true).status(), "DSM range at 0x" + Long.toHexString(range[0]));
            }
            QueuePairTest.ScriptedQueue admin = CoreFixture.admin(h, QueuePairTest.NQN, 15_000);
            for (int attrib : new int[] {PropertyGetCommand.ATTRIB_SIZE_4, PropertyGetCommand.ATTRIB_SIZE_8}) {
                for (int ofst : new int[] {0xFFFFFFFC, 0x80000000, 0x7FFFFFFC}) {
                    assertEquals(Status.INVALID_FIELD, h.run(admin, s -> {
                        PropertyGetCommand.opcode(s, FabricsCommand.OPCODE);
                        PropertyGetCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_GET);
                        s.set(Wire.U8, PropertyGetCommand.OFFSET_ATTRIB, (byte) attrib);
                        s.set(Wire.U32, PropertyGetCommand.OFFSET_OFST, ofst);
                    }, null, false).status());
                }
            }
            return null;
        });
    }
}
