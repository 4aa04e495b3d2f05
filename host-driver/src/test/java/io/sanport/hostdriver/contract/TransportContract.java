package io.sanport.hostdriver.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sanport.hostdriver.RemoteTransport;
import io.sanport.hostdriver.Target;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.Capsule;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import io.sanport.nvme.fabrics.PropertySetCommand;
import io.sanport.hostdriver.contract.ContractTransport.Completion;
import io.sanport.hostdriver.contract.ContractTransport.Connection;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The transport contract: what every Remote Transport does the same way, proved on the wire against a real
 * target (real core, io_uring reactor, RAM namespace). Each case gets a fresh target.
 *
 * <p>Plugging a transport in: its module depends on {@code sanport-host-driver} with type {@code test-jar},
 * scope {@code test}; one test class extends this one and returns from {@link #open()} a
 * {@link ContractTransport} that starts a target shaped as {@link ContractTransport#config} says (a port of the
 * transport's type) and opens host-side connections in its framing: SGL1 and capsule layout, how host data
 * moves, what a framing error is, when the target has ended a connection. A case the transport truly cannot
 * do says why through the adapter ({@link ContractTransport#digestsUnsupported()}) and is reported skipped.
 * Runs now: {@code LoopContractTest} (host-driver), {@code TcpContractTest}, {@code RdmaContractTest}.
 */
public abstract class TransportContract {
    protected static final int LBA = 512;
    protected static final int NAMESPACE_BYTES = 16 << 20;
    protected static final int MDTS_BYTES = 128 * 1024;
    protected static final long TIMEOUT_MS = 10_000;
    protected static final int IO_SQSIZE = 127;

    protected ContractTransport transport;
    private int nextCid = 1;

    /** A running target shaped as {@link ContractTransport} says, and the host side of this transport. */
    protected abstract ContractTransport open() throws Exception;

    @BeforeEach
    void openTransport() throws Exception {
        transport = open();
    }

    @AfterEach
    void closeTransport() throws Exception {
        if (transport != null) transport.close();
    }

    // ---------------------------------------------------------------- host helpers

    /** A controller: its admin queue, enabled and ready, and its id. */
    protected record Controller(Connection admin, int cntlid) {}

    protected MemorySegment sqe(int opcode) {
        MemorySegment s = MemorySegment.ofArray(new byte[(int) SubmissionQueueEntry.SIZE]);
        SubmissionQueueEntry.opcode(s, opcode);
        SubmissionQueueEntry.flags(s, SubmissionQueueEntry.PSDT_SGL_MPTR_CONTIG);
        int cid = nextCid;
        nextCid = nextCid == 0xFFF ? 1 : nextCid + 1;
        SubmissionQueueEntry.cid(s, cid);
        return s;
    }

    /** Sends one command and waits for its completion (others that arrive first are an error here). */
    protected Completion execute(Connection c, MemorySegment sqe, byte[] write, boolean inCapsule, int readLength)
            throws Exception {
        c.submit(sqe, write, inCapsule, readLength);
        Completion done = c.next(TIMEOUT_MS);
        assertNotNull(done, "a completion for opcode 0x" + Integer.toHexString(SubmissionQueueEntry.opcode(sqe)));
        assertEquals(SubmissionQueueEntry.cid(sqe), done.cid(), "the completion of the command sent");
        return done;
    }

    protected Completion ok(Connection c, MemorySegment sqe, byte[] write, boolean inCapsule, int readLength)
            throws Exception {
        Completion done = execute(c, sqe, write, inCapsule, readLength);
        assertEquals(Status.SUCCESS, done.code(), "opcode 0x" + Integer.toHexString(SubmissionQueueEntry.opcode(sqe)) + ": " + done);
        return done;
    }

    protected Completion connect(Connection c, int qid, int sqsize, int cntlid) throws Exception {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
        ConnectCommand.qid(s, qid);
        ConnectCommand.sqsize(s, sqsize);
        ConnectCommand.kato(s, qid == 0 ? 30_000 : 0);
        byte[] data = new byte[(int) ConnectCommand.DATA_LENGTH];
        MemorySegment d = MemorySegment.ofArray(data);
        ConnectData.hostUuid(d, UUID.nameUUIDFromBytes(transport.hostNqn().getBytes()));
        ConnectData.cntlid(d, cntlid);
        ConnectData.subnqn(d, transport.subsystemNqn());
        ConnectData.hostnqn(d, transport.hostNqn());
        return execute(c, s, data, true, 0);
    }

    protected long propertyGet(Connection c, int offset, boolean eight) throws Exception {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_GET);
        PropertyGetCommand.attrib(s, eight ? 1 : 0);
        PropertyGetCommand.ofst(s, offset);
        Completion done = ok(c, s, null, false, 0);
        return Integer.toUnsignedLong(done.dw0()) | (long) done.dw1() << 32;
    }

    protected void propertySet(Connection c, int offset, int value) throws Exception {
        MemorySegment s = sqe(FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_SET);
        PropertySetCommand.ofst(s, offset);
        PropertySetCommand.value(s, value);
        ok(c, s, null, false, 0);
    }

    /** Admin queue: Connect, CC.EN = 1 (IOSQES 6, IOCQES 4), CSTS.RDY. */
    protected Controller controller() throws Exception {
        return controller(false);
    }

    protected Controller controller(boolean digests) throws Exception {
        Connection admin = transport.connect(0, 31, digests, digests);
        Completion c = connect(admin, 0, 31, ConnectData.CNTLID_DYNAMIC);
        assertEquals(Status.SUCCESS, c.code(), "admin Connect: " + c);
        assertEquals(0, c.sqid());
        int cntlid = c.dw0() & 0xFFFF;
        propertySet(admin, Property.CC, 0x00460001);
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000;
        while ((propertyGet(admin, Property.CSTS, false) & Property.CSTS_RDY) == 0) {
            assertTrue(System.nanoTime() < deadline, "CSTS.RDY");
        }
        return new Controller(admin, cntlid);
    }

    protected Connection ioQueue(Controller ctrl, int qid) throws Exception {
        return ioQueue(ctrl, qid, false);
    }

    protected Connection ioQueue(Controller ctrl, int qid, boolean digests) throws Exception {
        Connection io = transport.connect(qid, IO_SQSIZE, digests, digests);
        Completion c = connect(io, qid, IO_SQSIZE, ctrl.cntlid());
        assertEquals(Status.SUCCESS, c.code(), "I/O Connect: " + c);
        assertEquals(qid, c.sqid());
        return io;
    }

    protected MemorySegment rw(int opcode, long slba, int bytes) {
        MemorySegment s = sqe(opcode);
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, bytes / LBA - 1);
        return s;
    }

    protected Completion write(Connection io, long slba, byte[] data, boolean inCapsule) throws Exception {
        return ok(io, rw(IoOpcode.WRITE, slba, data.length), data, inCapsule, 0);
    }

    protected byte[] read(Connection io, long slba, int bytes) throws Exception {
        byte[] data = ok(io, rw(IoOpcode.READ, slba, bytes), null, false, bytes).data();
        assertEquals(bytes, data.length, "read data length");
        return data;
    }

    protected byte[] identify(Connection admin, int cns, int nsid) throws Exception {
        MemorySegment s = sqe(AdminOpcode.IDENTIFY);
        SubmissionQueueEntry.nsid(s, nsid);
        SubmissionQueueEntry.cdw10(s, cns);
        return ok(admin, s, null, false, 4096).data();
    }

    protected static byte[] pattern(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Completions of {@code n} commands in flight, by CID, in whatever order they come. */
    protected static Map<Integer, Completion> collect(Connection c, int n) throws Exception {
        Map<Integer, Completion> done = new HashMap<>();
        while (done.size() < n) {
            Completion next = c.next(TIMEOUT_MS);
            assertNotNull(next, "completion " + (done.size() + 1) + " of " + n);
            assertEquals(null, done.put(next.cid(), next), "one completion per CID");
        }
        return done;
    }

    // ---------------------------------------------------------------- the contract

    @Test
    void fabricsConnectOfAdminAndIoQueues() throws Exception {
        Controller ctrl = controller();
        assertTrue(ctrl.cntlid() > 0 && ctrl.cntlid() < 0xFFF0, "cntlid " + ctrl.cntlid());
        assertEquals(Property.VS_1_3, propertyGet(ctrl.admin(), Property.VS, false));
        Connection io = transport.connect(1, IO_SQSIZE, false, false);
        Completion c = connect(io, 1, IO_SQSIZE, ctrl.cntlid());
        assertEquals(Status.SUCCESS, c.code(), c.toString());
        assertEquals(1, c.sqid());
        assertEquals(ctrl.cntlid(), c.dw0() & 0xFFFF, "the I/O queue joined the admin queue's controller");
        // an I/O queue for a controller that does not exist is refused; the connection may stay
        Connection stray = transport.connect(2, IO_SQSIZE, false, false);
        Completion refused = connect(stray, 2, IO_SQSIZE, ctrl.cntlid() + 1);
        assertEquals(Status.CONNECT_INVALID_PARAM, refused.code(), refused.toString());
        stray.close();
        // a command after the Connect runs on the I/O queue
        assertEquals(LBA, read(io, 0, LBA).length);
    }

    @Test
    void identifyControllerAndNamespace() throws Exception {
        Controller ctrl = controller();
        Target target = transport.target();
        RemoteTransport rt = target.port(1).transport();
        MemorySegment id = MemorySegment.ofArray(identify(ctrl.admin(), IdentifyCns.CTRL, 0));
        assertEquals(ctrl.cntlid(), IdentifyController.cntlid(id));
        assertEquals(transport.subsystemNqn(), IdentifyController.subnqn(id));
        assertEquals(IdentifyController.CNTRLTYPE_IO, IdentifyController.cntrltype(id));
        assertEquals(target.mdts(), IdentifyController.mdts(id));
        assertEquals(MDTS_BYTES, 4096 << IdentifyController.mdts(id), "the contract's 128 KiB pool buffers");
        assertEquals(rt.ioccsz(), IdentifyController.ioccsz(id), "IOCCSZ is the transport's");
        assertEquals(rt.sgls(), IdentifyController.sgls(id) & rt.sgls(), "SGLS has the transport's bits");
        assertEquals(1, IdentifyController.nn(id));
        MemorySegment ns = MemorySegment.ofArray(identify(ctrl.admin(), IdentifyCns.NS, 1));
        assertEquals(NAMESPACE_BYTES / LBA, IdentifyNamespace.nsze(ns));
        assertEquals(9, IdentifyNamespace.lbafLbads(ns, 0), "512-byte blocks");
        MemorySegment missing = sqe(AdminOpcode.IDENTIFY);
        SubmissionQueueEntry.nsid(missing, 7);
        SubmissionQueueEntry.cdw10(missing, IdentifyCns.NS);
        Completion c = execute(ctrl.admin(), missing, null, false, 4096);
        assertTrue(c.code() == Status.INVALID_NS || c.code() == Status.SUCCESS, c.toString());
    }

    /** 512 B, 4 KiB, the 8 KiB in-capsule limit and MDTS: in the capsule when it fits and from host memory. */
    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {512, 4096, Capsule.IN_CAPSULE_DATA, MDTS_BYTES})
    void readAfterWriteOfEverySizeClass(int bytes) throws Exception {
        Controller ctrl = controller();
        Connection io = ioQueue(ctrl, 1);
        long slba = 64;
        if (bytes <= Capsule.IN_CAPSULE_DATA) {
            byte[] data = pattern(bytes, bytes);
            write(io, slba, data, true);
            assertArrayEquals(data, read(io, slba, bytes), "in-capsule write read back");
            slba += MDTS_BYTES / LBA;
        }
        byte[] data = pattern(bytes, bytes + 1);
        write(io, slba, data, false);
        assertArrayEquals(data, read(io, slba, bytes), "host-memory write read back");
    }

    @Test
    void digests() throws Exception {
        String why = transport.digestsUnsupported();
        assumeTrue(why == null, why);
        Controller ctrl = controller(true);
        Connection io = ioQueue(ctrl, 1, true);
        for (int bytes : new int[] {4096, MDTS_BYTES}) {
            byte[] data = pattern(bytes, 11);
            write(io, 8, data, bytes <= Capsule.IN_CAPSULE_DATA);
            assertArrayEquals(data, read(io, 8, bytes));
        }
        identify(ctrl.admin(), IdentifyCns.CTRL, 0);
    }

    /**
     * More commands in flight than the reactor has pool buffers: all complete, the reads with their data. Whether
     * some had to wait for a buffer depends on how fast the host sends (a synchronous fake fabric may let each
     * finish first); LoopStateMachineTest makes them wait for certain.
     */
    @Test
    void moreCommandsInFlightThanPoolBuffers() throws Exception {
        Controller ctrl = controller();
        Connection io = ioQueue(ctrl, 1);
        Target target = transport.target();
        int buffers = target.reactors().getFirst().buffers().capacity();
        int n = 2 * buffers;
        assertTrue(n <= IO_SQSIZE && (long) n * MDTS_BYTES <= NAMESPACE_BYTES, n + " commands");
        List<byte[]> data = new ArrayList<>();
        Map<Integer, Integer> index = new HashMap<>();
        for (int i = 0; i < n; i++) {
            data.add(pattern(MDTS_BYTES, 100 + i));
            MemorySegment s = rw(IoOpcode.WRITE, (long) i * MDTS_BYTES / LBA, MDTS_BYTES);
            index.put(SubmissionQueueEntry.cid(s), i);
            io.submit(s, data.get(i), false, 0);
        }
        for (Completion c : collect(io, n).values()) {
            assertEquals(Status.SUCCESS, c.code(), c.toString());
        }
        index.clear();
        for (int i = 0; i < n; i++) {
            MemorySegment s = rw(IoOpcode.READ, (long) i * MDTS_BYTES / LBA, MDTS_BYTES);
            index.put(SubmissionQueueEntry.cid(s), i);
            io.submit(s, null, false, MDTS_BYTES);
        }
        for (Completion c : collect(io, n).values()) {
            assertEquals(Status.SUCCESS, c.code(), c.toString());
            assertArrayEquals(data.get(index.get(c.cid())), c.data(), "read " + index.get(c.cid()));
        }
    }

    /** The host drops an I/O queue with I/O in flight: the target lets it finish and takes new connections. */
    @Test
    void disconnectMidIoLeavesTheTargetHealthy() throws Exception {
        Controller ctrl = controller();
        Connection io = ioQueue(ctrl, 1);
        byte[] kept = pattern(8192, 5);
        write(io, 0, kept, false);
        for (int i = 0; i < 16; i++) {
            io.submit(rw(IoOpcode.WRITE, 1024 + (long) i * MDTS_BYTES / LBA, MDTS_BYTES), pattern(MDTS_BYTES, i), false, 0);
            io.submit(rw(IoOpcode.READ, 0, MDTS_BYTES), null, false, MDTS_BYTES);
        }
        io.close();
        // the controller and a new connection to it work
        Connection again = ioQueue(ctrl, 2);
        assertArrayEquals(kept, read(again, 0, kept.length));
        byte[] more = pattern(4096, 6);
        write(again, 16, more, true);
        assertArrayEquals(more, read(again, 16, more.length));
        ok(ctrl.admin(), sqe(AdminOpcode.KEEP_ALIVE), null, false, 0);
        // and so does a new controller
        Controller other = controller();
        assertArrayEquals(more, read(ioQueue(other, 1), 16, more.length));
    }

    @Test
    void badOpcodeIsInvalidOpcodeAndTheQueueLivesOn() throws Exception {
        Controller ctrl = controller();
        Connection io = ioQueue(ctrl, 1);
        Completion io7f = execute(io, rw(0x7E, 0, LBA), null, false, 0); // unassigned (0x7F is Fabrics)
        assertEquals(Status.INVALID_OPCODE, io7f.code(), io7f.toString());
        assertTrue(io7f.dnr(), "a retry cannot help");
        Completion adminFf = execute(ctrl.admin(), sqe(0xFF), null, false, 0);
        assertEquals(Status.INVALID_OPCODE, adminFf.code(), adminFf.toString());
        byte[] data = pattern(4096, 7);
        write(io, 8, data, true);
        assertArrayEquals(data, read(io, 8, 4096));
        ok(ctrl.admin(), sqe(AdminOpcode.KEEP_ALIVE), null, false, 0);
    }

    /**
     * In-capsule descriptors whose Address and Length lie (wrap past 2^63, point past the capsule, ask for more
     * than it carries): never a successful write of someone else's bytes, never a dead target. Each lie gets an
     * error status or ends its own connection; the namespace keeps what was there and a new queue works.
     */
    @Test
    void inCapsuleDescriptorsThatLieAboutTheirDataAreRefused() throws Exception {
        Controller ctrl = controller();
        Connection good = ioQueue(ctrl, 1);
        byte[] before = pattern(8192, 9);
        write(good, 64, before, false);
        long[][] lies = {
            {0x7FFFFFFFFFFFFC00L, 1024}, {Long.MAX_VALUE - 63, 8192}, {0x8000000000000000L, 1024},
            {-1L, 1024}, {0, 0xFFFFFFFFL}, {0, 8192}, {4096, 1024}, {Capsule.IN_CAPSULE_DATA, 1024}};
        int qid = 2;
        Connection io = ioQueue(ctrl, qid);
        for (long[] lie : lies) {
            MemorySegment w = rw(IoOpcode.WRITE, 64, 1024);
            SglDescriptor.set(w, SubmissionQueueEntry.OFFSET_DPTR, lie[0], lie[1], SglDescriptor.ID_DATA_OFFSET);
            io.submitRaw(w, new byte[1024]);
            Completion c = io.next(TIMEOUT_MS / 4);
            String what = "address 0x" + Long.toHexString(lie[0]) + " length " + lie[1];
            if (c != null) {
                assertNotEquals(Status.SUCCESS, c.code(), what + " was written: " + c);
            } else {
                assertTrue(io.closedByTarget(TIMEOUT_MS), what + ": neither an error status nor the end of the connection");
                io = ioQueue(ctrl, ++qid);
            }
        }
        assertArrayEquals(before, read(good, 64, before.length), "the namespace kept its data");
        ok(ctrl.admin(), sqe(AdminOpcode.KEEP_ALIVE), null, false, 0);
    }

    @Test
    void malformedFramingEndsOnlyThatConnection() throws Exception {
        Controller ctrl = controller();
        Connection io = ioQueue(ctrl, 1);
        Connection bad = ioQueue(ctrl, 2);
        bad.sendMalformed();
        assertTrue(bad.closedByTarget(TIMEOUT_MS), "the target ended the connection that broke the framing");
        byte[] data = pattern(8192, 8);
        write(io, 32, data, false);
        assertArrayEquals(data, read(io, 32, data.length));
        ok(ctrl.admin(), sqe(AdminOpcode.KEEP_ALIVE), null, false, 0); // the other connections live on
    }
}
