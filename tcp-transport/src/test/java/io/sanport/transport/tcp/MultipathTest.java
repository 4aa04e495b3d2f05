package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.BlockDevice;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.OpenOptions;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.AnaLogPage;
import io.sanport.nvme.AnaState;
import io.sanport.nvme.AsyncEvent;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.LogPageId;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.DiscoveryLogEntry;
import io.sanport.nvme.fabrics.DiscoveryLogPage;
import io.sanport.transport.tcp.RawHost.Completion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multipath over real NVMe/TCP, io_uring and files, with {@link RawHost} as the host: one subsystem on two ports with
 * their own ANA states (Identify, the ANA log with and without RGO, the ANA change event, I/O refused with a
 * path-related status on one path and served by the other), referrals in the discovery log, and two targets
 * serving one file with disjoint controller IDs, as two sanport processes would.
 */
@Timeout(60)
class MultipathTest {
    static final String NQN = "nqn.2024-01.io.sanport:mp";
    static final ReactorConfig SMALL = new ReactorConfig(64, 128 * 1024, 64);
    static final int LBA = 512;

    @TempDir
    Path dir;
    Path a;
    Path b;
    final List<AutoCloseable> owned = new ArrayList<>();

    /**
     * Port 1: group 1 optimized, group 2 non-optimized, a referral; port 2: group 1 inaccessible, group 2 optimized.
     * Namespace 1 is in group 1, namespace 2 in group 2.
     */
    String config(String attr) {
        return """
            { "ports": [
                { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "0" },
                  "ana_groups": [ { "grpid": 1, "ana": { "state": "optimized" } },
                                  { "grpid": 2, "ana": { "state": "non-optimized" } } ],
                  "referrals": [ { "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "192.0.2.7", "trsvcid": "8009",
                                             "portid": 7 } } ],
                  "subsystems": [ "%1$s" ] },
                { "portid": 2, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "0" },
                  "ana_groups": [ { "grpid": 1, "ana": { "state": "inaccessible" } },
                                  { "grpid": 2, "ana": { "state": "optimized" } } ],
                  "subsystems": [ "%1$s" ] } ],
              "subsystems": [
                { "nqn": "%1$s", "attr": { "allow_any_host": "1" %2$s },
                  "namespaces": [ { "nsid": 1, "device": { "path": "%3$s", "shared": true } },
                                  { "nsid": 2, "ana_grpid": 2, "device": { "path": "%4$s" } } ] } ] }
            """.formatted(NQN, attr, a, b);
    }

    Target target;

    @BeforeEach
    void start() throws Exception {
        a = dir.resolve("a.img");
        b = dir.resolve("b.img");
        BlockDevices.open(a.toString(), OpenOptions.DEFAULT.creating(4 << 20)).close();
        BlockDevices.open(b.toString(), OpenOptions.DEFAULT.creating(4 << 20)).close();
        target = start(config(""));
    }

    Target start(String json) throws Exception {
        TargetConfig cfg = TargetConfig.parse(json, "mp.json");
        List<BlockDevice> devices = new ArrayList<>();
        for (String p : cfg.devicePaths()) {
            devices.add(BlockDevices.open(p));
        }
        IoProcessor iop = IoProcessor.start(1, SMALL, devices);
        owned.add(iop);
        Target t = Target.start(cfg, new TargetOptions(0, 50, 5000), iop);
        owned.add(0, t);
        return t;
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : owned) {
            c.close();
        }
    }

    int port(Target t, int id) {
        return t.port(id).boundPort();
    }

    static RawHost admin(int port) throws IOException {
        RawHost h = RawHost.connect(port);
        h.adminQueue(NQN, 5000);
        return h;
    }

    static RawHost io(RawHost admin, int port) throws IOException {
        RawHost io = RawHost.connect(port);
        RawHost.ok(io.connect(1, 127, 0, admin.cntlid, NQN));
        return io;
    }

    static Completion anaLog(RawHost h, boolean rgo, boolean retain) throws IOException {
        MemorySegment s = RawHost.sqe(AdminOpcode.GET_LOG_PAGE);
        SubmissionQueueEntry.nsid(s, -1);
        SubmissionQueueEntry.cdw10(s, LogPageId.ANA | (rgo ? AnaLogPage.LSP_RGO << 8 : 0)
                | (retain ? SubmissionQueueEntry.LOG_RAE : 0));
        SubmissionQueueEntry.logPageLength(s, 4096);
        return RawHost.ok(h.execute(s, null, false, 4096));
    }

    /** {grpid, nnsids, chgcnt, state, nsids...} of each descriptor. */
    static List<long[]> groups(byte[] log) {
        MemorySegment m = MemorySegment.ofArray(log);
        List<long[]> list = new ArrayList<>();
        long at = AnaLogPage.HEADER_SIZE;
        for (int i = 0; i < AnaLogPage.ngrps(m); i++) {
            MemorySegment d = m.asSlice(at);
            int n = AnaLogPage.nnsids(d);
            long[] g = new long[4 + n];
            g[0] = AnaLogPage.grpid(d);
            g[1] = n;
            g[2] = AnaLogPage.groupChgcnt(d);
            g[3] = AnaLogPage.state(d);
            for (int j = 0; j < n; j++) {
                g[4 + j] = AnaLogPage.nsid(d, j);
            }
            list.add(g);
            at += AnaLogPage.descriptorLength(n);
        }
        return list;
    }

    static void armAer(RawHost admin, int events) throws IOException {
        RawHost.ok(admin.setFeature(FeatureId.ASYNC_EVENT, events));
        MemorySegment aer = RawHost.sqe(AdminOpcode.ASYNC_EVENT);
        SubmissionQueueEntry.cid(aer, 31);
        SglDescriptor.set(aer, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, SglDescriptor.ID_TCP_TRANSPORT);
        admin.send(admin.capsule(aer, null));
        RawHost.ok(admin.keepAlive());
    }

    @Test
    void identifyReportsAna() throws Exception {
        try (RawHost h = admin(port(target, 1))) {
            MemorySegment id = MemorySegment.ofArray(h.identify(IdentifyCns.CTRL, 0));
            assertTrue((IdentifyController.cmic(id) & IdentifyController.CMIC_ANA) != 0, "CMIC.ANA");
            assertTrue((IdentifyController.cmic(id) & IdentifyController.CMIC_MULTI_PORT) != 0, "CMIC multi-port");
            assertEquals(AnaState.ANACAP_ALL, IdentifyController.anacap(id));
            assertEquals(10, IdentifyController.anatt(id));
            assertEquals(128, IdentifyController.anagrpmax(id));
            assertEquals(128, IdentifyController.nanagrpid(id));
            assertTrue((IdentifyController.oaes(id) & IdentifyController.OAES_ANA_CHANGE) != 0, "OAES bit 11");
            // Linux refuses ANA with MNAN 0 or above NN
            assertEquals(2, IdentifyController.nn(id));
            assertEquals(IdentifyController.nn(id), IdentifyController.mnan(id));
            MemorySegment ns1 = MemorySegment.ofArray(h.identify(IdentifyCns.NS, 1));
            MemorySegment ns2 = MemorySegment.ofArray(h.identify(IdentifyCns.NS, 2));
            assertEquals(1, IdentifyNamespace.anagrpid(ns1));
            assertEquals(2, IdentifyNamespace.anagrpid(ns2));
            assertEquals(IdentifyNamespace.NMIC_SHARED, IdentifyNamespace.nmic(ns1) & IdentifyNamespace.NMIC_SHARED);
            RawHost.ok(h.setFeature(FeatureId.ASYNC_EVENT, IdentifyController.OAES_ANA_CHANGE
                    | IdentifyController.OAES_NS_ATTRIBUTE));
        }
        try (RawHost d = RawHost.connect(port(target, 1))) {
            d.adminQueue(Nqn.DISCOVERY, 5000);
            MemorySegment id = MemorySegment.ofArray(d.identify(IdentifyCns.CTRL, 0));
            assertEquals(0, IdentifyController.cmic(id) & IdentifyController.CMIC_ANA, "no ANA on discovery");
            assertEquals(Status.INVALID_FIELD, d.getLogPage(LogPageId.ANA, -1, 4096, 0).code());
        }
    }

    @Test
    void anaLogPerPortWithAndWithoutRgo() throws Exception {
        try (RawHost p1 = admin(port(target, 1)); RawHost p2 = admin(port(target, 2))) {
            byte[] log = anaLog(p1, false, false).data();
            assertEquals(0, AnaLogPage.chgcnt(MemorySegment.ofArray(log)));
            List<long[]> g = groups(log);
            assertEquals(2, g.size());
            assertArrayEquals(new long[] {1, 1, 0, AnaState.OPTIMIZED.value(), 1}, g.get(0));
            assertArrayEquals(new long[] {2, 1, 0, AnaState.NON_OPTIMIZED.value(), 2}, g.get(1));
            g = groups(anaLog(p2, false, false).data());
            assertArrayEquals(new long[] {1, 1, 0, AnaState.INACCESSIBLE.value(), 1}, g.get(0));
            assertArrayEquals(new long[] {2, 1, 0, AnaState.OPTIMIZED.value(), 2}, g.get(1));
            // RGO: the groups without their namespace lists, 16 + 2 x 32 bytes
            byte[] rgo = anaLog(p1, true, false).data();
            g = groups(rgo);
            assertArrayEquals(new long[] {1, 0, 0, AnaState.OPTIMIZED.value()}, g.get(0));
            assertArrayEquals(new long[] {2, 0, 0, AnaState.NON_OPTIMIZED.value()}, g.get(1));
            assertTrue(Arrays.equals(new byte[4096 - 80], Arrays.copyOfRange(rgo, 80, 4096)), "nothing past the groups");
            // read in 4 KiB pieces as nvme-cli does: the log is as long as its largest (16 + 128 x 32 + NN x 4), zeros
            Completion second = p1.getLogPage(LogPageId.ANA, -1, 4096, 4096);
            assertTrue(second.ok(), second.toString());
            assertTrue(Arrays.equals(new byte[4096], second.data()));
            assertEquals(Status.INVALID_FIELD, p1.getLogPage(LogPageId.ANA, -1, 4, 16 + 128 * 32 + 2 * 4 + 4).code(),
                    "past its largest size");

            assertTrue(target.setAnaState(1, 2, AnaState.INACCESSIBLE));
            assertTrue(target.setAnaState(2, 1, AnaState.OPTIMIZED));
            assertFalse(target.setAnaState(2, 1, AnaState.OPTIMIZED), "no change, no count");
            log = anaLog(p1, false, false).data();
            assertEquals(2, AnaLogPage.chgcnt(MemorySegment.ofArray(log)), "two changes since the start");
            g = groups(log);
            assertArrayEquals(new long[] {1, 1, 0, AnaState.OPTIMIZED.value(), 1}, g.get(0));
            assertArrayEquals(new long[] {2, 1, 1, AnaState.INACCESSIBLE.value(), 2}, g.get(1));
            g = groups(anaLog(p2, false, false).data());
            assertArrayEquals(new long[] {1, 1, 2, AnaState.OPTIMIZED.value(), 1}, g.get(0));
            assertThrows(IllegalArgumentException.class, () -> target.setAnaState(1, 0, AnaState.OPTIMIZED));
            assertThrows(IllegalArgumentException.class, () -> target.setAnaState(9, 1, AnaState.OPTIMIZED));
        }
    }

    @Test
    void stateChangeRaisesTheAnaEventOnThatPortOnly() throws Exception {
        try (RawHost p1 = admin(port(target, 1)); RawHost p2 = admin(port(target, 2))) {
            armAer(p1, IdentifyController.OAES_ANA_CHANGE);
            armAer(p2, IdentifyController.OAES_ANA_CHANGE);
            target.setAnaState(2, 1, AnaState.OPTIMIZED);
            Completion aen = p2.await(31, null, 0);
            assertEquals(AsyncEvent.ANA_CHANGED, aen.dw0(), aen.toString());
            assertEquals(0x000C0302, aen.dw0());
            // port 1's controller heard nothing: its AER is still held, so a keep-alive completes first
            RawHost.ok(p1.keepAlive());
            assertFalse(p1.early.containsKey(31), "port 1's AER completed: " + p1.early);
            // masked until the log is read: a second change on port 2 posts nothing while unread...
            MemorySegment aer = RawHost.sqe(AdminOpcode.ASYNC_EVENT);
            SubmissionQueueEntry.cid(aer, 4000);
            SglDescriptor.set(aer, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, SglDescriptor.ID_TCP_TRANSPORT);
            p2.send(p2.capsule(aer, null));
            target.setAnaState(2, 1, AnaState.NON_OPTIMIZED);
            RawHost.ok(p2.keepAlive());
            assertFalse(p2.early.containsKey(4000), "posted while the log was unread: " + p2.early);
            // ...and once read (without RAE), the next change is posted
            anaLog(p2, false, false);
            target.setAnaState(2, 1, AnaState.INACCESSIBLE);
            assertEquals(AsyncEvent.ANA_CHANGED, p2.await(4000, null, 0).dw0());
            // port 1's change reaches port 1
            target.setAnaState(1, 1, AnaState.NON_OPTIMIZED);
            assertEquals(AsyncEvent.ANA_CHANGED, p1.await(31, null, 0).dw0());
        }
    }

    @Test
    void inaccessiblePathGetsPathStatusWhileTheOtherPathServes() throws Exception {
        byte[] data = new byte[8192];
        new Random(13).nextBytes(data);
        try (RawHost p1 = admin(port(target, 1)); RawHost io1 = io(p1, port(target, 1));
             RawHost p2 = admin(port(target, 2)); RawHost io2 = io(p2, port(target, 2))) {
            Completion refused = io2.write(1, 8, data, LBA, false);
            assertEquals(Status.ANA_INACCESSIBLE, refused.code(), refused.toString());
            assertEquals(Status.SCT_PATH, Status.sct(refused.status()));
            assertEquals(2, Status.sc(refused.status()));
            assertFalse(refused.dnr(), "no DNR: the host must be free to retry on another path");
            assertEquals(Status.ANA_INACCESSIBLE, io2.read(1, 8, 16, LBA).code());
            assertEquals(Status.ANA_INACCESSIBLE, io2.flush(1).code());
            // the same namespace through port 1 is served; admin commands on port 2 still work
            RawHost.ok(io1.write(1, 8, data, LBA, false));
            assertArrayEquals(data, RawHost.ok(io1.read(1, 8, 16, LBA)).data());
            assertEquals(1, IdentifyNamespace.anagrpid(MemorySegment.ofArray(p2.identify(IdentifyCns.NS, 1))));
            RawHost.ok(p2.keepAlive());
            // namespace 2 (group 2) is optimized on port 2
            RawHost.ok(io2.write(2, 0, data, LBA, false));
            // the other states: change is a transition, persistent loss is persistent loss, both without DNR
            target.setAnaState(2, 1, AnaState.CHANGE);
            Completion c = io2.read(1, 8, 16, LBA);
            assertEquals(Status.ANA_TRANSITION, c.code(), c.toString());
            assertFalse(c.dnr());
            target.setAnaState(2, 1, AnaState.PERSISTENT_LOSS);
            c = io2.read(1, 8, 16, LBA);
            assertEquals(Status.ANA_PERSISTENT_LOSS, c.code(), c.toString());
            assertFalse(c.dnr());
            assertTrue(Status.describe(c.status()).contains("Asymmetric Access Persistent Loss"), Status.describe(c.status()));
            // failback: optimized again, the path serves what port 1 wrote
            target.setAnaState(2, 1, AnaState.OPTIMIZED);
            assertArrayEquals(data, RawHost.ok(io2.read(1, 8, 16, LBA)).data());
            // non-optimized serves I/O too
            target.setAnaState(1, 1, AnaState.NON_OPTIMIZED);
            RawHost.ok(io1.read(1, 8, 16, LBA));
        }
    }

    @Test
    void referralsInTheDiscoveryLogOfTheirPort() throws Exception {
        for (int id : new int[] {1, 2}) {
            try (RawHost d = RawHost.connect(port(target, id))) {
                d.adminQueue(Nqn.DISCOVERY, 5000);
                MemorySegment log = MemorySegment.ofArray(RawHost.ok(d.getLogPage(LogPageId.DISCOVERY, 0, 8192, 0)).data());
                List<MemorySegment> referrals = new ArrayList<>();
                for (int i = 0; i < DiscoveryLogPage.numrec(log); i++) {
                    MemorySegment e = log.asSlice(DiscoveryLogPage.entryOffset(i), DiscoveryLogPage.ENTRY_SIZE);
                    if (DiscoveryLogEntry.subtype(e) == DiscoveryLogEntry.SUBTYPE_REFERRAL) referrals.add(e);
                }
                if (id == 2) {
                    assertEquals(0, referrals.size(), "port 2 has no referrals");
                    assertEquals(3, DiscoveryLogPage.numrec(log), "itself + the subsystem on two ports");
                    continue;
                }
                assertEquals(4, DiscoveryLogPage.numrec(log));
                assertEquals(1, referrals.size());
                MemorySegment r = referrals.getFirst();
                assertEquals(Nqn.DISCOVERY, DiscoveryLogEntry.subnqn(r));
                assertEquals("192.0.2.7", DiscoveryLogEntry.traddr(r));
                assertEquals("8009", DiscoveryLogEntry.trsvcid(r));
                assertEquals(7, DiscoveryLogEntry.portid(r));
                assertEquals(DiscoveryLogEntry.TRTYPE_TCP, DiscoveryLogEntry.trtype(r));
                assertEquals(DiscoveryLogEntry.ADRFAM_IPV4, DiscoveryLogEntry.adrfam(r));
            }
        }
    }

    @Test
    void twoTargetsOnOneFileGiveDisjointControllerIdsAndOneIdentity() throws Exception {
        target.close();
        owned.remove(target);
        Target first = start(config(", \"cntlid_min\": \"1\", \"cntlid_max\": \"100\""));
        Target second = start(config(", \"cntlid_min\": \"101\", \"cntlid_max\": \"200\""));
        byte[] data = new byte[4096];
        new Random(5).nextBytes(data);
        List<RawHost> hosts = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                RawHost h1 = admin(port(first, 1));
                RawHost h2 = admin(port(second, 1));
                hosts.add(h1);
                hosts.add(h2);
                assertTrue(h1.cntlid >= 1 && h1.cntlid <= 100, "first: " + h1.cntlid);
                assertTrue(h2.cntlid >= 101 && h2.cntlid <= 200, "second: " + h2.cntlid);
            }
            RawHost h1 = hosts.get(0);
            RawHost h2 = hosts.get(1);
            MemorySegment c1 = MemorySegment.ofArray(h1.identify(IdentifyCns.CTRL, 0));
            MemorySegment c2 = MemorySegment.ofArray(h2.identify(IdentifyCns.CTRL, 0));
            assertEquals(IdentifyController.sn(c1), IdentifyController.sn(c2), "one serial");
            assertEquals(IdentifyController.subnqn(c1), IdentifyController.subnqn(c2));
            assertNotEquals(IdentifyController.cntlid(c1), IdentifyController.cntlid(c2));
            byte[] n1 = h1.identify(IdentifyCns.NS, 1);
            byte[] n2 = h2.identify(IdentifyCns.NS, 1);
            assertArrayEquals(Arrays.copyOfRange(n1, (int) IdentifyNamespace.OFFSET_NGUID, (int) IdentifyNamespace.OFFSET_NGUID + 16),
                    Arrays.copyOfRange(n2, (int) IdentifyNamespace.OFFSET_NGUID, (int) IdentifyNamespace.OFFSET_NGUID + 16),
                    "one NGUID");
            assertArrayEquals(h1.identify(IdentifyCns.NS_DESC_LIST, 1), h2.identify(IdentifyCns.NS_DESC_LIST, 1),
                    "one NGUID, UUID and CSI");
            // a write through one process is read through the other (O_DIRECT on one file)
            try (RawHost io1 = io(h1, port(first, 1)); RawHost io2 = io(h2, port(second, 1))) {
                RawHost.ok(io1.write(1, 64, data, LBA, false));
                assertArrayEquals(data, RawHost.ok(io2.read(1, 64, 8, LBA)).data());
            }
        } finally {
            for (RawHost h : hosts) h.close();
        }
    }

    @Test
    void reloadChangesAnaStatesAndReferrals() throws Exception {
        try (RawHost p2 = admin(port(target, 2)); RawHost io2 = io(p2, port(target, 2))) {
            armAer(p2, IdentifyController.OAES_ANA_CHANGE);
            String next = config("").replace("\"state\": \"inaccessible\"", "\"state\": \"optimized\"")
                    .replace("\"referrals\": [", "\"referrals\": [ ] , \"x\": [");
            List<String> changes = target.apply(TargetConfig.parse(next, "next.json"));
            assertTrue(changes.contains("ANA group 1 on port 2 is now optimized"), changes.toString());
            assertTrue(changes.stream().anyMatch(c -> c.contains("port 1 refers to 0")), changes.toString());
            assertEquals(AsyncEvent.ANA_CHANGED, p2.await(31, null, 0).dw0());
            RawHost.ok(io2.read(1, 0, 8, LBA));
            assertEquals(List.of(), target.port(1).referrals());
        }
    }
}
