package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.iop.BlockDevice;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.OpenOptions;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.AsyncEvent;
import io.sanport.nvme.DsmRange;
import io.sanport.nvme.ErrorLogEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.LogPageId;
import io.sanport.nvme.NamespaceDescriptor;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.SmartLog;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.DiscoveryLogEntry;
import io.sanport.nvme.fabrics.DiscoveryLogPage;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.TermReq;
import io.sanport.hostdriver.Subsystem;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.transport.tcp.RawHost.Completion;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The target over real NVMe/TCP on 127.0.0.1, real io_uring, a RAM device and an O_DIRECT file, driven by
 * {@link RawHost}, which speaks the PDUs the Linux 6.1 host speaks (and some it never would).
 */
class TcpTargetTest {
    static final String NQN = "nqn.2024-01.io.sanport:test";
    static final String CLOSED_NQN = "nqn.2024-01.io.sanport:closed";
    static final String OTHER_HOST = "nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f";
    static final ReactorConfig SMALL = new ReactorConfig(64, 128 * 1024, 32);
    static final int LBA = 512;

    @TempDir
    Path dir;
    IoProcessor iop;
    Target target;
    int port;
    Path image;

    @BeforeEach
    void start() throws Exception {
        image = dir.resolve("disk.img");
        BlockDevice ram = BlockDevices.open("ram:16M");
        BlockDevice file = BlockDevices.open(image.toString(), OpenOptions.DEFAULT.creating(8 << 20));
        iop = IoProcessor.start(2, SMALL, List.of(ram, file));
        String json = """
            { "hosts": [ { "nqn": "%s" } ],
              "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "0" },
                           "subsystems": [ "%s", "%s" ] } ],
              "subsystems": [
                { "nqn": "%s", "attr": { "allow_any_host": "1", "serial": "SANPORT0001", "model": "sanport test" },
                  "namespaces": [ { "nsid": 1, "enable": 1, "device": { "path": "ram:16M" } },
                                  { "nsid": 2, "enable": 1, "device": { "path": "%s", "uuid": "6a2b3c4d-1111-4222-8333-944455566677" } } ] },
                { "nqn": "%s", "attr": { "allow_any_host": "0" }, "allowed_hosts": [ "%s" ],
                  "namespaces": [ { "nsid": 1, "device": { "path": "ram:16M" } } ] } ] }
            """.formatted(OTHER_HOST, NQN, CLOSED_NQN, NQN, image, CLOSED_NQN, OTHER_HOST);
        target = Target.start(TargetConfig.parse(json, "test.json"), new TargetOptions(0, 50, 5000), iop);
        port = target.port(1).boundPort();
    }

    @AfterEach
    void stop() throws Exception {
        if (target != null) target.close();
        if (iop != null) iop.close();
    }

    /** Admin queue up, Identify, Number of Queues, then one I/O queue. */
    RawHost ioQueue(RawHost admin, boolean hdgst, boolean ddgst) throws IOException {
        return ioQueue(admin, 1, hdgst, ddgst);
    }

    RawHost ioQueue(RawHost admin, int qid, boolean hdgst, boolean ddgst) throws IOException {
        RawHost io = RawHost.connect(port, hdgst, ddgst);
        RawHost.ok(io.connect(qid, 127, 0, admin.cntlid, NQN));
        return io;
    }

    @Test
    void connectIdentifyWriteReadVerify() throws Exception {
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            MemorySegment ctrl = MemorySegment.ofArray(admin.identify(IdentifyCns.CTRL, 0));
            assertEquals(admin.cntlid, IdentifyController.cntlid(ctrl));
            assertEquals(NQN, IdentifyController.subnqn(ctrl));
            assertEquals("SANPORT0001", IdentifyController.sn(ctrl));
            assertEquals(IdentifyController.CNTRLTYPE_IO, IdentifyController.cntrltype(ctrl));
            assertEquals(5, IdentifyController.mdts(ctrl), "128 KiB buffers");
            assertEquals(0x00100001, IdentifyController.sgls(ctrl));
            assertEquals(516, IdentifyController.ioccsz(ctrl));
            assertEquals(0, IdentifyController.icdoff(ctrl));
            assertEquals(10, IdentifyController.kas(ctrl));
            assertTrue(IdentifyController.maxcmd(ctrl) >= 128);
            assertEquals(2, IdentifyController.nn(ctrl));
            assertEquals(128 - 1, admin.setNumberOfQueues(4) & 0xFFFF);

            byte[] list = admin.identify(IdentifyCns.NS_ACTIVE_LIST, 0);
            assertEquals(1, RawHost.u32(list, 0));
            assertEquals(2, RawHost.u32(list, 4));
            assertEquals(0, RawHost.u32(list, 8));
            MemorySegment ns = MemorySegment.ofArray(admin.identify(IdentifyCns.NS, 1));
            assertEquals((16 << 20) / LBA, IdentifyNamespace.nsze(ns));
            assertEquals(9, IdentifyNamespace.lbafLbads(ns, 0));
            MemorySegment desc = MemorySegment.ofArray(admin.identify(IdentifyCns.NS_DESC_LIST, 2));
            assertEquals(NamespaceDescriptor.NIDT_NGUID, NamespaceDescriptor.nidt(desc));
            Completion csi = admin.execute(identifySqe(0x06, 0, 0), null, false, 4096);
            assertTrue(csi.ok(), "CNS 06h CSI NVM: " + csi);
            Completion bad = admin.execute(identifySqe(0x10, 0, 0), null, false, 4096);
            assertEquals(Status.INVALID_FIELD, bad.code());
            assertTrue(bad.dnr());

            try (RawHost io = ioQueue(admin, false, false)) {
                Random random = new Random(1);
                for (int nsid = 1; nsid <= 2; nsid++) {
                    byte[] small = new byte[4096];
                    random.nextBytes(small);
                    RawHost.ok(io.write(nsid, 8, small, LBA, true));          // in-capsule
                    byte[] big = new byte[128 * 1024];
                    random.nextBytes(big);
                    RawHost.ok(io.write(nsid, 1000, big, LBA, false));        // R2T + H2CData
                    assertArrayEquals(small, RawHost.ok(io.read(nsid, 8, 8, LBA)).data());
                    assertArrayEquals(big, RawHost.ok(io.read(nsid, 1000, big.length / LBA, LBA)).data());
                    RawHost.ok(io.flush(nsid));
                }
                // Write Zeroes and DSM deallocate, then the range reads back as zeroes
                MemorySegment wz = RawHost.sqe(IoOpcode.WRITE_ZEROES);
                SubmissionQueueEntry.nsid(wz, 1);
                SubmissionQueueEntry.slba(wz, 8);
                SubmissionQueueEntry.nlb(wz, 7);
                RawHost.ok(io.execute(wz, null, false, 0));
                assertArrayEquals(new byte[4096], RawHost.ok(io.read(1, 8, 8, LBA)).data());
                MemorySegment dsm = RawHost.sqe(IoOpcode.DSM);
                SubmissionQueueEntry.nsid(dsm, 2);
                SubmissionQueueEntry.cdw11(dsm, SubmissionQueueEntry.DSM_AD);
                byte[] ranges = new byte[4096];
                MemorySegment rs = MemorySegment.ofArray(ranges);
                DsmRange.nlb(rs, 256);
                DsmRange.slba(rs, 1000);
                RawHost.ok(io.execute(dsm, ranges, false, 0));
            }
            Completion smart = RawHost.ok(admin.getLogPage(LogPageId.SMART, -1, 512, 0));
            MemorySegment s = MemorySegment.ofArray(smart.data());
            assertTrue(SmartLog.hostWriteCommands(s) >= 4, "write commands " + SmartLog.hostWriteCommands(s));
            assertTrue(SmartLog.hostReadCommands(s) >= 5);
            assertTrue(SmartLog.dataUnitsWritten(s) >= 1);
            admin.shutdownController();
        }
    }

    static MemorySegment identifySqe(int cns, int nsid, int csi) {
        MemorySegment s = RawHost.sqe(AdminOpcode.IDENTIFY);
        SubmissionQueueEntry.nsid(s, nsid);
        SubmissionQueueEntry.cdw10(s, cns);
        SubmissionQueueEntry.cdw11(s, csi << 24);
        return s;
    }

    @Test
    void digestsAndSuccessFlag() throws Exception {
        try (RawHost admin = RawHost.connect(port, true, true)) {
            admin.adminQueue(NQN, 5000);
            try (RawHost io = RawHost.connect(port, true, true)) {
                MemorySegment s = RawHost.sqe(FabricsCommand.OPCODE);
                // an I/O Connect with CATTR bit 2: SQ flow control off, so reads may end with C2HData SUCCESS
                byte[] data = connectData(admin.cntlid, NQN, RawHost.HOSTNQN);
                FabricsCommand.fctype(s, FabricsCommand.FCTYPE_CONNECT);
                ConnectCommand.qid(s, 1);
                ConnectCommand.sqsize(s, 31);
                ConnectCommand.cattr(s, ConnectCommand.CATTR_DISABLE_SQFLOW);
                Completion c = RawHost.ok(io.execute(s, data, true, 0));
                assertEquals(0xFFFF, c.sqhd());
                byte[] block = new byte[64 * 1024];
                new Random(2).nextBytes(block);
                RawHost.ok(io.write(2, 0, block, LBA, false));
                assertArrayEquals(block, RawHost.ok(io.read(2, 0, block.length / LBA, LBA)).data());
            }
        }
    }

    static byte[] connectData(int cntlid, String subnqn, String hostnqn) {
        byte[] data = new byte[1024];
        MemorySegment d = MemorySegment.ofArray(data);
        ConnectData.hostUuid(d, java.util.UUID.nameUUIDFromBytes(hostnqn.getBytes())); // RawHost's HOSTID: an I/O queue must match it
        ConnectData.cntlid(d, cntlid);
        ConnectData.subnqn(d, subnqn);
        ConnectData.hostnqn(d, hostnqn);
        return data;
    }

    @Test
    void hostNotAllowedIsRefusedWithInvalidHost() throws Exception {
        try (RawHost h = RawHost.connect(port)) {
            Completion c = h.connect(0, 31, 5000, ConnectData.CNTLID_DYNAMIC, CLOSED_NQN);
            assertEquals(Status.CONNECT_INVALID_HOST, c.code());
            assertTrue(c.dnr());
            assertEquals(ConnectCommand.invalidParameterDw0((int) ConnectData.OFFSET_HOSTNQN, true), c.dw0());
            // unknown subsystem, bad SQSIZE, bad admin CNTLID: Invalid Parameters with the IPO of the field
            Completion unknown = h.connect(0, 31, 5000, ConnectData.CNTLID_DYNAMIC, "nqn.2024-01.io.sanport:nope");
            assertEquals(Status.CONNECT_INVALID_PARAM, unknown.code());
            assertEquals(0x00010100, unknown.dw0());
            Completion sqsize = h.connect(0, 0, 5000, ConnectData.CNTLID_DYNAMIC, NQN);
            assertEquals(Status.CONNECT_INVALID_PARAM, sqsize.code());
            assertEquals(44, sqsize.dw0());
            Completion cntlid = h.connect(0, 31, 5000, 5, NQN);
            assertEquals(0x00010010, cntlid.dw0());
            // and the allowed host gets in
            h.hostnqn = OTHER_HOST;
            assertTrue(h.connect(0, 31, 5000, ConnectData.CNTLID_DYNAMIC, CLOSED_NQN).ok());
        }
    }

    @Test
    void outOfRangeAndOtherBadCommands() throws Exception {
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            long blocks = (16 << 20) / LBA;
            try (RawHost io = ioQueue(admin, false, false)) {
                Completion read = io.read(1, blocks, 1, LBA);
                assertEquals(Status.LBA_RANGE, read.code(), read.toString());
                assertTrue(read.dnr());
                // a large write past the end is refused before any R2T
                Completion write = io.write(1, blocks - 8, new byte[64 * 1024], LBA, false);
                assertEquals(Status.LBA_RANGE, write.code());
                assertTrue(write.dnr());
                Completion ns = io.read(9, 0, 1, LBA);
                assertEquals(Status.INVALID_NS, ns.code());
                assertTrue(ns.dnr());
                Completion mdts = io.read(1, 0, 512, LBA); // 256 KiB > MDTS
                assertEquals(Status.INVALID_FIELD, mdts.code());
                MemorySegment wrongLength = RawHost.sqe(IoOpcode.READ);
                SubmissionQueueEntry.nsid(wrongLength, 1);
                SubmissionQueueEntry.nlb(wrongLength, 7);
                Completion sgl = io.execute(wrongLength, null, false, 512);
                assertEquals(Status.SGL_INVALID_DATA, sgl.code());
                assertTrue(sgl.dnr());
                MemorySegment unknown = RawHost.sqe(0x7E);
                SubmissionQueueEntry.nsid(unknown, 1);
                Completion opcode = io.execute(unknown, null, false, 0);
                assertEquals(Status.INVALID_OPCODE, opcode.code());
                // still fine afterwards
                RawHost.ok(io.write(1, 0, new byte[4096], LBA, true));
            }
            // the error log holds them, most recent first
            Completion log = RawHost.ok(admin.getLogPage(LogPageId.ERROR, 0, 64 * 4, 0));
            assertTrue(ErrorLogEntry.errorCount(MemorySegment.ofArray(log.data())) >= 6);
        }
    }

    @Test
    void malformedPdusEndOnlyTheirConnection() throws Exception {
        try (RawHost admin = RawHost.connect(port); RawHost io = ioQueueAfter(admin)) {
            // bad HLEN on a CapsuleCmd
            try (RawHost bad = RawHost.connect(port)) {
                byte[] pdu = bad.capsule(RawHost.sqe(AdminOpcode.KEEP_ALIVE), null);
                pdu[2] = 70;
                bad.send(pdu);
                MemorySegment term = bad.readPdu();
                assertEquals(PduHeader.TYPE_C2H_TERM_REQ, PduHeader.type(term));
                assertEquals(TermReq.FES_INVALID_HEADER_FIELD, TermReq.fes(term));
                assertEquals(PduHeader.OFFSET_HLEN, TermReq.fei(term));
                assertEquals(70, Byte.toUnsignedInt(term.get(java.lang.foreign.ValueLayout.JAVA_BYTE, TermReq.HLEN + 2)),
                        "the offending header follows");
                assertClosed(bad);
            }
            // bad header digest
            try (RawHost bad = RawHost.connect(port, true, false)) {
                byte[] pdu = bad.capsule(RawHost.sqe(AdminOpcode.KEEP_ALIVE), null);
                pdu[CapsuleCommand.HLEN] ^= 0x5A;
                bad.send(pdu);
                MemorySegment term = bad.readPdu();
                assertEquals(PduHeader.TYPE_C2H_TERM_REQ, PduHeader.type(term));
                assertEquals(TermReq.FES_HEADER_DIGEST_ERROR, TermReq.fes(term));
                assertClosed(bad);
            }
            // an unknown PDU type, and a PDO that is not where the data starts
            try (RawHost bad = RawHost.connect(port)) {
                byte[] pdu = bad.capsule(RawHost.sqe(AdminOpcode.KEEP_ALIVE), null);
                pdu[0] = 0x0B;
                bad.send(pdu);
                assertEquals(TermReq.FES_INVALID_HEADER_FIELD, TermReq.fes(bad.readPdu()));
                assertClosed(bad);
            }
            try (RawHost bad = RawHost.connect(port)) {
                byte[] pdu = bad.capsule(RawHost.sqe(AdminOpcode.KEEP_ALIVE), new byte[64]);
                pdu[3] = 80;
                bad.send(pdu);
                MemorySegment term = bad.readPdu();
                assertEquals(PduHeader.OFFSET_PDO, TermReq.fei(term));
                assertClosed(bad);
            }
            // the good connections never noticed
            byte[] block = new byte[8192];
            new Random(3).nextBytes(block);
            RawHost.ok(io.write(1, 64, block, LBA, false));
            assertArrayEquals(block, RawHost.ok(io.read(1, 64, 16, LBA)).data());
            RawHost.ok(admin.keepAlive());
        }
    }

    RawHost ioQueueAfter(RawHost admin) throws IOException {
        admin.adminQueue(NQN, 5000);
        admin.setNumberOfQueues(1);
        return ioQueue(admin, false, false);
    }

    static void assertClosed(RawHost h) throws IOException {
        try {
            assertEquals(-1, h.in.read(), "the target closes the connection after a C2HTermReq");
        } catch (SocketException reset) {
            // closed with a reset: also closed
        }
    }

    @Test
    void keepAliveExpiryTearsDownASilentController() throws Exception {
        Subsystem s = target.subsystem(NQN);
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 300);
            try (RawHost io = ioQueue(admin, false, false)) {
                assertEquals(1, s.controllers().size());
                // a host that keeps its keep-alives coming stays
                for (int i = 0; i < 6; i++) {
                    Thread.sleep(100);
                    RawHost.ok(admin.keepAlive());
                }
                assertEquals(1, s.controllers().size());
                // silence: both queues are closed and the controller is gone
                long start = System.nanoTime();
                assertClosed(admin);
                assertClosed(io);
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms >= 150 && ms < 3000, "torn down after " + ms + " ms");
                assertTrue(s.controllers().isEmpty());
            }
        }
    }

    @Test
    void discoveryLogListsTheSubsystems() throws Exception {
        try (RawHost d = RawHost.connect(port)) {
            d.adminQueue(Nqn.DISCOVERY, 0);
            MemorySegment ctrl = MemorySegment.ofArray(d.identify(IdentifyCns.CTRL, 0));
            assertEquals(IdentifyController.CNTRLTYPE_DISCOVERY, IdentifyController.cntrltype(ctrl));
            assertEquals(Nqn.DISCOVERY, IdentifyController.subnqn(ctrl));
            // libnvme 1.3: the 1024-byte header first, then the whole log
            MemorySegment header = MemorySegment.ofArray(RawHost.ok(d.getLogPage(LogPageId.DISCOVERY, 0, 1024, 0)).data());
            long numrec = DiscoveryLogPage.numrec(header);
            assertEquals(2, numrec, "itself, and the one subsystem this host may see");
            MemorySegment log = MemorySegment.ofArray(RawHost.ok(d.getLogPage(LogPageId.DISCOVERY, 0,
                    (int) DiscoveryLogPage.length(numrec), 0)).data());
            MemorySegment self = log.asSlice(DiscoveryLogPage.entryOffset(0), 1024);
            assertEquals(DiscoveryLogEntry.SUBTYPE_CURRENT_DISCOVERY, DiscoveryLogEntry.subtype(self));
            MemorySegment e = log.asSlice(DiscoveryLogPage.entryOffset(1), 1024);
            assertEquals(DiscoveryLogEntry.TRTYPE_TCP, DiscoveryLogEntry.trtype(e));
            assertEquals(DiscoveryLogEntry.ADRFAM_IPV4, DiscoveryLogEntry.adrfam(e));
            assertEquals(DiscoveryLogEntry.SUBTYPE_NVME, DiscoveryLogEntry.subtype(e));
            assertEquals(NQN, DiscoveryLogEntry.subnqn(e));
            assertEquals("127.0.0.1", DiscoveryLogEntry.traddr(e));
            assertEquals(Integer.toString(port), DiscoveryLogEntry.trsvcid(e));
            assertEquals(0, DiscoveryLogEntry.treq(e) & DiscoveryLogEntry.TREQ_SECURE_CHANNEL_MASK);
            // entries from an offset, as newer libnvme reads them
            MemorySegment tail = MemorySegment.ofArray(RawHost.ok(d.getLogPage(LogPageId.DISCOVERY, 0, 1024, 2048)).data());
            assertEquals(NQN, DiscoveryLogEntry.subnqn(tail));
            // a discovery controller has no I/O commands
            Completion c = d.getLogPage(LogPageId.SMART, -1, 512, 0);
            assertEquals(Status.INVALID_FIELD, c.code());
            d.shutdownController();
        }
        // the other host also sees the subsystem that allows only it
        try (RawHost d = RawHost.connect(port)) {
            d.hostnqn = OTHER_HOST;
            d.adminQueue(Nqn.DISCOVERY, 0);
            MemorySegment header = MemorySegment.ofArray(RawHost.ok(d.getLogPage(LogPageId.DISCOVERY, 0, 1024, 0)).data());
            assertEquals(3, DiscoveryLogPage.numrec(header));
        }
    }

    @Test
    void asyncEventOnNamespaceChange() throws Exception {
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            RawHost.ok(admin.setFeature(FeatureId.ASYNC_EVENT, IdentifyController.OAES_NS_ATTRIBUTE));
            MemorySegment aer = RawHost.sqe(AdminOpcode.ASYNC_EVENT);
            SubmissionQueueEntry.cid(aer, 31);
            SglDescriptor.set(aer, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, SglDescriptor.ID_TCP_TRANSPORT);
            admin.send(admin.capsule(aer, null));
            RawHost.ok(admin.keepAlive()); // the AER is held: other commands pass it
            target.subsystem(NQN).setNamespaceEnabled(2, false);
            Completion event = admin.await(31, null, 0);
            assertEquals(AsyncEvent.NS_CHANGED, event.dw0());
            byte[] changed = RawHost.ok(admin.getLogPage(LogPageId.CHANGED_NS, -1, 4096, 0)).data();
            assertEquals(2, RawHost.u32(changed, 0));
            assertEquals(0, RawHost.u32(changed, 4));
            byte[] list = admin.identify(IdentifyCns.NS_ACTIVE_LIST, 0);
            assertEquals(1, RawHost.u32(list, 0));
            assertEquals(0, RawHost.u32(list, 4));
            target.subsystem(NQN).setNamespaceEnabled(2, true);
        }
    }

    @Test
    void commandsBeforeEnableAreASequenceError() throws Exception {
        try (RawHost h = RawHost.connect(port)) {
            Completion before = h.execute(identifySqe(IdentifyCns.CTRL, 0, 0), null, false, 4096);
            assertEquals(Status.INVALID_OPCODE, before.code(), "only Connect before Connect");
            RawHost.ok(h.connect(0, 31, 5000, ConnectData.CNTLID_DYNAMIC, NQN));
            Completion notReady = h.execute(identifySqe(IdentifyCns.CTRL, 0, 0), null, false, 4096);
            assertEquals(Status.CMD_SEQ_ERROR, notReady.code());
            Completion again = h.connect(0, 31, 5000, ConnectData.CNTLID_DYNAMIC, NQN);
            assertEquals(Status.CMD_SEQ_ERROR, again.code());
            assertTrue(again.dnr());
        }
    }

    /**
     * Writes stream in, pipelined, on two queues while the target shuts down: every write the host saw
     * acknowledged is in the file afterwards.
     */
    @Test
    void shutdownWithIoInFlightLosesNoAcknowledgedWrite() throws Exception {
        RawHost admin = RawHost.connect(port);
        admin.adminQueue(NQN, 5000);
        admin.setNumberOfQueues(2);
        List<RawHost> queues = List.of(ioQueue(admin, 1, false, false), ioQueue(admin, 2, false, false));
        ConcurrentHashMap<Long, Byte> acked = new ConcurrentHashMap<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> writers = new ArrayList<>();
        for (int q = 0; q < 2; q++) {
            RawHost io = queues.get(q);
            long base = q * 4096L;
            writers.add(pool.submit(() -> {
                int depth = 16;
                int[] cids = new int[depth];
                long[] slbas = new long[depth];
                byte[] fill = new byte[depth];
                long next = 0;
                try {
                    for (int i = 0; i < depth; i++) {
                        slbas[i] = base + 8 * next++;
                        fill[i] = (byte) (1 + (slbas[i] / 8 % 250));
                        cids[i] = sendWrite(io, slbas[i], fill[i]);
                    }
                    for (int i = 0; !stop.get(); i = (i + 1) % depth) {
                        Completion c = io.await(cids[i], null, 0);
                        if (c.ok()) {
                            acked.put(slbas[i], fill[i]);
                        }
                        slbas[i] = base + 8 * (next++ % 500);
                        fill[i] = (byte) (1 + (next % 250));
                        cids[i] = sendWrite(io, slbas[i], fill[i]);
                    }
                } catch (IOException closedByTarget) {
                    // expected: the target shut down under us
                }
                return null;
            }));
        }
        Thread.sleep(300);
        assertTrue(acked.size() > 20, "writes are flowing: " + acked.size());
        target.close();
        stop.set(true);
        for (Future<?> f : writers) {
            f.get(10, TimeUnit.SECONDS);
        }
        pool.shutdown();
        for (RawHost h : queues) h.close();
        admin.close();
        assertThrows(IOException.class, () -> RawHost.connect(port), "no longer listening");
        // every acknowledged write is on disk (the last acked write of each range is what it holds,
        // unless a later write to the same range was in flight: then either value may be there)
        byte[] disk = Files.readAllBytes(image);
        int checked = 0;
        for (var e : acked.entrySet()) {
            byte b = disk[(int) (e.getKey() * LBA)];
            assertTrue(b != 0, "acknowledged write at LBA " + e.getKey() + " is missing");
            checked++;
        }
        assertTrue(checked > 20);
    }

    private static int sendWrite(RawHost io, long slba, byte fill) throws IOException {
        MemorySegment s = RawHost.sqe(IoOpcode.WRITE);
        SubmissionQueueEntry.nsid(s, 2);
        SubmissionQueueEntry.slba(s, slba);
        SubmissionQueueEntry.nlb(s, 7);
        int id = io.nextCid();
        SubmissionQueueEntry.cid(s, id);
        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, fill);
        SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, data.length, SglDescriptor.ID_DATA_OFFSET);
        io.send(io.capsule(s, data));
        return id;
    }

    /**
     * 120 commands in flight on one queue against 32 pool buffers: requests wait for buffers (in-capsule
     * receives pause meanwhile) and all complete, in whatever order, with the right data.
     */
    @Test
    void moreCommandsInFlightThanBuffers() throws Exception {
        try (RawHost admin = RawHost.connect(port); RawHost io = ioQueueAfter(admin)) {
            int n = 120;
            byte[][] blocks = new byte[n][8192];
            Map<Integer, Integer> byCid = new HashMap<>();
            Random random = new Random(4);
            for (int i = 0; i < n; i++) {
                random.nextBytes(blocks[i]);
                MemorySegment s = RawHost.sqe(IoOpcode.WRITE);
                SubmissionQueueEntry.nsid(s, 1);
                SubmissionQueueEntry.slba(s, 16L * i);
                SubmissionQueueEntry.nlb(s, 15);
                int id = io.nextCid();
                SubmissionQueueEntry.cid(s, id);
                SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, 8192, SglDescriptor.ID_DATA_OFFSET);
                io.send(io.capsule(s, blocks[i]));
                byCid.put(id, i);
            }
            for (Completion c : io.collect(n).values()) {
                assertTrue(c.ok(), c.toString());
            }
            byCid.clear();
            for (int i = 0; i < n; i++) {
                MemorySegment s = RawHost.sqe(IoOpcode.READ);
                SubmissionQueueEntry.nsid(s, 1);
                SubmissionQueueEntry.slba(s, 16L * i);
                SubmissionQueueEntry.nlb(s, 15);
                int id = io.nextCid();
                SubmissionQueueEntry.cid(s, id);
                SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, 8192, SglDescriptor.ID_TCP_TRANSPORT);
                io.send(io.capsule(s, null));
                byCid.put(id, i);
            }
            Map<Integer, Completion> reads = io.collect(n);
            assertTrue(target.bufferWaits() > 0, "the pool ran dry at least once");
            for (var e : reads.entrySet()) {
                assertTrue(e.getValue().ok(), e.getValue().toString());
                assertArrayEquals(blocks[byCid.get(e.getKey())], e.getValue().data());
            }
        }
    }

    @Test
    void singleDeviceExportConfig() throws Exception {
        TargetConfig c = TargetConfig.forDevice("ram:16M", "nqn.2024-01.io.sanport:quick", "tcp", "127.0.0.1", 0);
        try (Target t = Target.start(c, new TargetOptions(0, 100, 2000), iop);
             RawHost h = RawHost.connect(t.port(1).boundPort())) {
            h.adminQueue("nqn.2024-01.io.sanport:quick", 5000);
            assertFalse(h.identify(IdentifyCns.CTRL, 0).length == 0);
        }
    }

    @Test
    void eofDuringHandshakeIsHarmless() throws Exception {
        try (RawHost h = RawHost.open(port, false, false)) {
            h.send(new byte[] {0, 0, (byte) 128});
        }
        try (RawHost ok = RawHost.connect(port)) {
            ok.adminQueue(NQN, 5000);
        }
        assertThrows(EOFException.class, () -> {
            try (RawHost h = RawHost.open(port, false, false)) {
                byte[] icreq = new byte[128];
                icreq[2] = (byte) 128;
                icreq[4] = (byte) 128;
                icreq[8] = 1; // PFV 1
                h.send(icreq);
                MemorySegment term = h.readPdu();
                assertEquals(TermReq.FES_UNSUPPORTED_PARAMETER, TermReq.fes(term));
                h.readPdu();
            }
        });
    }
}
