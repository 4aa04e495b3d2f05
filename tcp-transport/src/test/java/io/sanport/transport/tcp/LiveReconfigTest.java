package io.sanport.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sanport.hostdriver.ConfigException;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.BlockDevice;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.IoProcessor;
import io.sanport.iop.OpenOptions;
import io.sanport.iop.ReactorConfig;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.AsyncEvent;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.LogPageId;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.DiscoveryLogPage;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import io.sanport.transport.tcp.RawHost.Completion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live reconfiguration of a running target over real NVMe/TCP, real io_uring and real files, with {@link RawHost}
 * as the host: namespaces appear (AER, Changed Namespace List, Identify, I/O) and disappear with I/O in flight,
 * ports come and go, and {@link Target#apply} of a changed config touches only what changed.
 */
class LiveReconfigTest {
    static final String NQN = "nqn.2024-01.io.sanport:live";
    static final String OTHER = "nqn.2024-01.io.sanport:other";
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:7d1e4c1a-2a3b-4c5d-8e9f-0a1b2c3d4e5f";
    static final ReactorConfig SMALL = new ReactorConfig(64, 128 * 1024, 64);
    static final int LBA = 512;

    @TempDir
    Path dir;
    IoProcessor iop;
    Target target;
    int port;
    Path a;
    Path b;
    Path c;

    String config(String extraNamespace, String otherHosts, String extraPorts) {
        return """
            { "hosts": [ { "nqn": "%s" } ],
              "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "0" },
                           "subsystems": [ "%s", "%s" ] } %s ],
              "subsystems": [
                { "nqn": "%s", "attr": { "allow_any_host": "1", "serial": "LIVE0001" },
                  "namespaces": [ { "nsid": 1, "device": { "path": "%s" } } %s ] },
                { "nqn": "%s", "attr": { "allow_any_host": "1", "serial": "OTHER001" }, "allowed_hosts": [ %s ],
                  "namespaces": [ { "nsid": 1, "device": { "path": "%s" } } ] } ] }
            """.formatted(HOST, NQN, OTHER, extraPorts, NQN, a, extraNamespace, OTHER, otherHosts, b);
    }

    @BeforeEach
    void start() throws Exception {
        a = dir.resolve("a.img");
        b = dir.resolve("b.img");
        c = dir.resolve("c.img");
        BlockDevice devA = BlockDevices.open(a.toString(), OpenOptions.DEFAULT.creating(8 << 20));
        BlockDevice devB = BlockDevices.open(b.toString(), OpenOptions.DEFAULT.creating(8 << 20));
        BlockDevices.open(c.toString(), OpenOptions.DEFAULT.creating(4 << 20)).close();
        iop = IoProcessor.start(2, SMALL, List.of(devA, devB));
        target = Target.start(TargetConfig.parse(config("", "", ""), "live.json"), new TargetOptions(0, 50, 5000), iop);
        port = target.port(1).boundPort();
    }

    @AfterEach
    void stop() throws Exception {
        if (target != null) target.close();
        if (iop != null) iop.close();
    }

    RawHost ioQueue(RawHost admin, String nqn) throws IOException {
        RawHost io = RawHost.connect(port);
        io.hostnqn = admin.hostnqn;
        RawHost.ok(io.connect(1, 127, 0, admin.cntlid, nqn));
        return io;
    }

    /** Sends an AER (CID 31) and makes sure the target holds it. */
    static void armAer(RawHost admin, int events) throws IOException {
        RawHost.ok(admin.setFeature(FeatureId.ASYNC_EVENT, events));
        MemorySegment aer = RawHost.sqe(AdminOpcode.ASYNC_EVENT);
        SubmissionQueueEntry.cid(aer, 31);
        SglDescriptor.set(aer, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, SglDescriptor.ID_TCP_TRANSPORT);
        admin.send(admin.capsule(aer, null));
        RawHost.ok(admin.keepAlive());
    }

    static List<Integer> activeNamespaces(RawHost admin) throws IOException {
        byte[] list = admin.identify(IdentifyCns.NS_ACTIVE_LIST, 0);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; RawHost.u32(list, 4 * i) != 0; i++) {
            ids.add(RawHost.u32(list, 4 * i));
        }
        return ids;
    }

    static boolean open(Path file) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.anyMatch(p -> {
                try {
                    return Files.readSymbolicLink(p).equals(file);
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    @Test
    void namespaceAddedWhileConnectedIsAnnouncedAndUsable() throws Exception {
        try (RawHost admin = RawHost.connect(port);
             RawHost disc = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            disc.adminQueue(Nqn.DISCOVERY, 5000);
            armAer(disc, IdentifyController.OAES_DISCOVERY_CHANGE);
            long genBefore = DiscoveryLogPage.genctr(MemorySegment.ofArray(
                    RawHost.ok(disc.getLogPage(LogPageId.DISCOVERY, 0, 1024, 0)).data()));
            armAer(admin, IdentifyController.OAES_NS_ATTRIBUTE);
            assertEquals(List.of(1), activeNamespaces(admin));
            // the AER is held (the admin queue took it before the Identify that answered): not an outstanding command
            // (the Identify's slot is freed once its response is sent: wait for that, never for the AER)
            long deadline = System.nanoTime() + 5_000_000_000L;
            long outstanding;
            while ((outstanding = target.stats().snapshot().ports().getFirst().outstanding()) != 0
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(0, outstanding, "a held AER is not outstanding");
            assertFalse(open(c));

            target.addNamespace(NQN, new TargetConfig.NamespaceConfig(7, true, c.toString(), null, null));

            assertEquals(AsyncEvent.NS_CHANGED, admin.await(31, null, 0).dw0());
            byte[] changed = RawHost.ok(admin.getLogPage(LogPageId.CHANGED_NS, -1, 4096, 0)).data();
            assertEquals(7, RawHost.u32(changed, 0));
            assertEquals(0, RawHost.u32(changed, 4));
            assertEquals(List.of(1, 7), activeNamespaces(admin));
            MemorySegment ns = MemorySegment.ofArray(admin.identify(IdentifyCns.NS, 7));
            assertEquals((4 << 20) / LBA, IdentifyNamespace.nsze(ns));
            assertEquals(7, IdentifyController.nn(MemorySegment.ofArray(admin.identify(IdentifyCns.CTRL, 0))));
            assertTrue(open(c), "the device was opened at runtime");
            try (RawHost io = ioQueue(admin, NQN)) {
                byte[] data = new byte[8192];
                new Random(7).nextBytes(data);
                RawHost.ok(io.write(7, 16, data, LBA, false));
                assertArrayEquals(data, RawHost.ok(io.read(7, 16, 16, LBA)).data());
            }
            // a namespace added at run time is counted like one from the start
            var counted = target.stats().snapshot().namespaces().stream().filter(n -> n.nsid() == 7).toList();
            assertEquals(1, counted.size(), "metrics list the added namespace: " + counted);
            assertEquals(1, counted.get(0).io().reads());
            assertEquals(1, counted.get(0).io().writes());
            // discovery hosts: an event, and a higher generation counter
            assertEquals(AsyncEvent.DISCOVERY_CHANGED, disc.await(31, null, 0).dw0());
            long genAfter = DiscoveryLogPage.genctr(MemorySegment.ofArray(
                    RawHost.ok(disc.getLogPage(LogPageId.DISCOVERY, 0, 1024, 0)).data()));
            assertTrue(genAfter > genBefore, genBefore + " -> " + genAfter);
            assertEquals(7, target.config().subsystems().get(0).namespaces().get(1).nsid());
            assertThrows(ConfigException.class, () -> target.addNamespace(NQN,
                    new TargetConfig.NamespaceConfig(7, true, c.toString(), null, null)));
        }
        // the device's bytes are on the file
        byte[] onFile = Files.readAllBytes(c);
        assertFalse(java.util.Arrays.equals(new byte[8192], java.util.Arrays.copyOfRange(onFile, 16 * LBA, 32 * LBA)));
    }

    /** A namespace configured disabled whose device was not open at start is in the config, not the model. */
    @Test
    void addingTheNsidOfADisabledNamespaceIsRefused() throws Exception {
        target.close();
        target = Target.start(TargetConfig.parse(config(
                        ", { \"nsid\": 3, \"enable\": 0, \"device\": { \"path\": \"" + c + "\" } }", "", ""),
                "live.json"), new TargetOptions(0, 50, 5000), iop);
        TargetConfig before = target.config();
        assertThrows(ConfigException.class, () -> target.addNamespace(NQN,
                new TargetConfig.NamespaceConfig(3, true, c.toString(), null, null)));
        assertEquals(before, target.config(), "the disabled namespace's configuration stays as it was");
    }

    @Test
    void namespaceRemovedWithIoInFlight() throws Exception {
        target.addNamespace(NQN, new TargetConfig.NamespaceConfig(2, true, c.toString(), null, null));
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            armAer(admin, IdentifyController.OAES_NS_ATTRIBUTE);
            try (RawHost io = ioQueue(admin, NQN)) {
                byte[] data = new byte[4096];
                new Random(2).nextBytes(data);
                RawHost.ok(io.write(2, 0, data, LBA, true)); // counted in the slot the next namespace takes
                int writes = 100;
                for (int i = 0; i < writes; i++) {
                    MemorySegment s = RawHost.sqe(IoOpcode.WRITE);
                    SubmissionQueueEntry.nsid(s, 2);
                    SubmissionQueueEntry.slba(s, 8L * i);
                    SubmissionQueueEntry.nlb(s, data.length / LBA - 1);
                    SubmissionQueueEntry.cid(s, 100 + i);
                    SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, data.length, SglDescriptor.ID_DATA_OFFSET);
                    io.send(io.capsule(s, data));
                    if (i == writes / 4) {
                        // the removal starts while most writes are still on their way
                        CompletableFuture.runAsync(() -> {
                            try {
                                target.removeNamespace(NQN, 2);
                            } catch (IOException e) {
                                throw new RuntimeException(e);
                            }
                        }).whenComplete((v, t) -> removed.complete(t));
                    }
                }
                Map<Integer, Completion> done = io.collect(writes);
                int ok = 0;
                for (Completion cqe : done.values()) {
                    assertTrue(cqe.ok() || cqe.code() == Status.INVALID_NS, "a clean completion: " + cqe);
                    if (cqe.ok()) ok++;
                }
                assertEquals(null, removed.get());
                assertTrue(ok < writes, "writes after the removal are refused (" + ok + " succeeded)");
                Completion late = io.write(2, 0, data, LBA, true);
                assertEquals(Status.INVALID_NS, late.code());
                // the other namespace never noticed
                RawHost.ok(io.write(1, 0, data, LBA, true));
                assertArrayEquals(data, RawHost.ok(io.read(1, 0, 8, LBA)).data());
                assertEquals(AsyncEvent.NS_CHANGED, admin.await(31, null, 0).dw0());
                assertEquals(List.of(1), activeNamespaces(admin));
                assertEquals(Status.INVALID_NS, admin.execute(identifySqe(IdentifyCns.NS, 2), null, false, 4096).code());
            }
        }
        assertFalse(open(c), "the removed namespace's device is closed");
        assertTrue(target.stats().snapshot().namespaces().stream().noneMatch(n -> n.nsid() == 2),
                "a removed namespace's series end");
        assertTrue(open(a), "the other one is not");
        // the next namespace takes the removed one's stats slot (it counted writes) and starts from zero
        target.addNamespace(NQN, new TargetConfig.NamespaceConfig(9, true, c.toString(), null, null));
        var nine = target.stats().snapshot().namespaces().stream().filter(n -> n.nsid() == 9).toList();
        assertEquals(1, nine.size());
        assertEquals(0, nine.get(0).io().writes(), "a reused slot counts from zero: " + nine);
        assertEquals(0, nine.get(0).io().writeLatency().count());
    }

    /**
     * A write that passed its checks and waits for its data (R2T sent) when its namespace is removed, and another
     * namespace takes the freed device slot before the data comes: the write must fail with Invalid Namespace, not
     * land on the new namespace's device.
     */
    @Test
    void aWriteHeldOverARemovalNeverReachesTheSlotsNextDevice() throws Exception {
        target.addNamespace(NQN, new TargetConfig.NamespaceConfig(2, true, c.toString(), null, null));
        Path d = dir.resolve("d.img");
        BlockDevices.open(d.toString(), OpenOptions.DEFAULT.creating(4 << 20)).close();
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            try (RawHost io = ioQueue(admin, NQN)) {
                byte[] data = new byte[8192];
                java.util.Arrays.fill(data, (byte) 0x5A);
                MemorySegment s = RawHost.sqe(IoOpcode.WRITE);
                SubmissionQueueEntry.nsid(s, 2);
                SubmissionQueueEntry.slba(s, 0);
                SubmissionQueueEntry.nlb(s, data.length / LBA - 1);
                SubmissionQueueEntry.cid(s, 77);
                SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, data.length, SglDescriptor.ID_TCP_TRANSPORT);
                io.send(io.capsule(s, null));
                MemorySegment r2t = io.readPdu();
                assertEquals(PduHeader.TYPE_R2T, PduHeader.type(r2t));

                target.removeNamespace(NQN, 2);
                target.addNamespace(NQN, new TargetConfig.NamespaceConfig(3, true, d.toString(), null, null));
                assertEquals(target.subsystem(NQN).namespaces().get(3).deviceIndex(0), 2,
                        "the new namespace took the freed slot (the case under test)");

                io.h2cData(77, R2T.ttag(r2t), data, 0, data.length);
                Completion done = io.await(77, null, 0);
                assertEquals(Status.INVALID_NS, done.code(), done.toString());
                assertArrayEquals(new byte[8192], RawHost.ok(io.read(3, 0, 16, LBA)).data(),
                        "nothing of the held write reached the new namespace");
            }
        }
    }

    final CompletableFuture<Throwable> removed = new CompletableFuture<>();

    static MemorySegment identifySqe(int cns, int nsid) {
        MemorySegment s = RawHost.sqe(AdminOpcode.IDENTIFY);
        SubmissionQueueEntry.nsid(s, nsid);
        SubmissionQueueEntry.cdw10(s, cns);
        return s;
    }

    @Test
    void applyTouchesOnlyWhatChanged() throws Exception {
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(OTHER, 5000);
            int cntlid = admin.cntlid;
            try (RawHost io = ioQueue(admin, OTHER)) {
                byte[] data = new byte[4096];
                new Random(3).nextBytes(data);
                RawHost.ok(io.write(1, 0, data, LBA, true));
                // NQN gets a namespace; OTHER only a host list change (checked at Connect, so nothing ends)
                List<String> changes = target.apply(TargetConfig.parse(config(
                        ", { \"nsid\": 3, \"device\": { \"path\": \"" + c + "\" } }", "\"" + HOST + "\"", ""), "v2"));
                assertEquals(List.of("allowed host " + HOST + " on " + OTHER,
                        "added namespace 3 (" + c + ") to " + NQN), changes);
                assertEquals(cntlid, IdentifyController.cntlid(MemorySegment.ofArray(admin.identify(IdentifyCns.CTRL, 0))));
                assertArrayEquals(data, RawHost.ok(io.read(1, 0, 8, LBA)).data());
                assertEquals(List.of(), target.apply(target.config()), "the same config again changes nothing");
                // and back: the namespace goes, its device closes, OTHER's host still connected
                changes = target.apply(TargetConfig.parse(config("", "", ""), "v1"));
                assertEquals(List.of("removed namespace 3 (" + c + ") from " + NQN,
                        "no longer allowed host " + HOST + " on " + OTHER), changes);
                assertFalse(open(c));
                RawHost.ok(io.write(1, 8, data, LBA, true));
                assertArrayEquals(data, RawHost.ok(io.read(1, 8, 8, LBA)).data());
                assertEquals(cntlid, target.subsystem(OTHER).controllers().getFirst().cntlid());
            }
        }
    }

    @Test
    void changedBufferedIoReopensTheNamespaceInTheNewMode() throws Exception {
        String buffered = withBufferedA();
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            try (RawHost io = ioQueue(admin, NQN)) {
                byte[] data = new byte[4096];
                new Random(5).nextBytes(data);
                RawHost.ok(io.write(1, 0, data, LBA, true));
                assertTrue(target.subsystem(NQN).namespaces().get(1).device().directIo());
                // as a changed path: removed, then added back on the same file, now through the page cache
                List<String> changes = target.apply(TargetConfig.parse(buffered, "buffered.json"));
                assertEquals(List.of("removed namespace 1 (" + a + ") from " + NQN,
                        "added namespace 1 (" + a + ") to " + NQN + " through the page cache (buffered_io)"), changes);
                assertFalse(target.subsystem(NQN).namespaces().get(1).device().directIo());
                assertFalse(oDirect(target.subsystem(NQN).namespaces().get(1).device()), "the kernel's flags for the fd");
                assertEquals(1, iop.devices().stream().filter(d -> d != null && d.name().equals(a.toString())).count(),
                        "the O_DIRECT fd is closed, not kept beside the buffered one");
                assertArrayEquals(data, RawHost.ok(io.read(1, 0, 8, LBA)).data());
                RawHost.ok(io.write(1, 8, data, LBA, false));
                assertEquals(List.of(), target.apply(TargetConfig.parse(buffered, "buffered.json")));
                changes = target.apply(TargetConfig.parse(config("", "", ""), "v1"));
                assertEquals(List.of("removed namespace 1 (" + a + ") from " + NQN,
                        "added namespace 1 (" + a + ") to " + NQN + " with O_DIRECT"), changes);
                assertTrue(target.subsystem(NQN).namespaces().get(1).device().directIo());
                assertTrue(oDirect(target.subsystem(NQN).namespaces().get(1).device()), "the kernel's flags for the fd");
                assertArrayEquals(data, RawHost.ok(io.read(1, 8, 8, LBA)).data(), "the buffered write reached the file");
            }
        }
    }

    /** Whether the kernel has O_DIRECT in the open flags of {@code d}'s fd (/proc/self/fdinfo, octal). */
    static boolean oDirect(BlockDevice d) throws IOException {
        String flags = Files.readAllLines(Path.of("/proc/self/fdinfo/" + d.fd())).stream()
                .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow().substring(6).strip();
        return (Long.parseLong(flags, 8) & io.sanport.bindings.libc.Libc.O_DIRECT) != 0;
    }

    String withBufferedA() {
        return config("", "", "").replace("\"path\": \"" + a + "\" }", "\"path\": \"" + a + "\", \"buffered_io\": 1 }");
    }

    @Test
    void aFailedReopenLeavesTheNamespaceAbsentUntilAReloadOrAddNsCanOpenIt() throws Exception {
        String buffered = withBufferedA();
        Path moved = dir.resolve("a.moved");
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            try (RawHost io = ioQueue(admin, NQN)) {
                byte[] data = new byte[4096];
                new Random(9).nextBytes(data);
                RawHost.ok(io.write(1, 0, data, LBA, true));
                Files.move(a, moved); // the reopen in the new mode finds no file
                List<String> changes = target.apply(TargetConfig.parse(buffered, "buffered.json"));
                assertEquals(2, changes.size(), changes.toString());
                assertEquals("removed namespace 1 (" + a + ") from " + NQN, changes.get(0));
                assertTrue(changes.get(1).startsWith("error: namespace 1 of " + NQN + " not added back"), changes.get(1));
                assertFalse(target.subsystem(NQN).namespaces().containsKey(1));
                assertTrue(target.config().subsystems().getFirst().namespaces().isEmpty(), "the running config says it is absent");

                Files.move(moved, a);
                changes = target.apply(TargetConfig.parse(buffered, "buffered.json"));
                assertEquals(List.of("added namespace 1 (" + a + ") to " + NQN), changes, "the next reload adds it back");
                assertFalse(target.subsystem(NQN).namespaces().get(1).device().directIo());
                assertArrayEquals(data, RawHost.ok(io.read(1, 0, 8, LBA)).data());

                // and its NSID is free for nvmf_subsystem_add_ns after another failure
                Files.move(a, moved);
                TargetConfig direct = TargetConfig.parse(config("", "", ""), "v1");
                assertTrue(target.apply(direct).get(1).startsWith("error: "));
                Files.move(moved, a);
                target.addNamespace(NQN, direct.subsystems().getFirst().namespaces().getFirst());
                assertTrue(target.subsystem(NQN).namespaces().get(1).device().directIo());
                assertArrayEquals(data, RawHost.ok(io.read(1, 0, 8, LBA)).data());
                assertEquals(List.of(), target.apply(direct));
            }
        }
    }

    @Test
    void bufferedIoOnARamNamespaceIsRefusedAndItsDataStays() throws Exception {
        String ram = ", { \"nsid\": 2, \"device\": { \"path\": \"ram:1M\" } }";
        target.apply(TargetConfig.parse(config(ram, "", ""), "ram.json"));
        try (RawHost admin = RawHost.connect(port)) {
            admin.adminQueue(NQN, 5000);
            try (RawHost io = ioQueue(admin, NQN)) {
                byte[] data = new byte[4096];
                new Random(11).nextBytes(data);
                RawHost.ok(io.write(2, 0, data, LBA, true));
                ConfigException e = assertThrows(ConfigException.class, () -> target.apply(TargetConfig.parse(
                        config(ram.replace("ram:1M\" }", "ram:1M\", \"buffered_io\": 1 }"), "", ""), "ram.json")));
                assertEquals("$.subsystems[0].namespaces[1].device.buffered_io", e.path(), e.getMessage());
                assertArrayEquals(data, RawHost.ok(io.read(2, 0, 8, LBA)).data(), "the RAM disk was not replaced");
            }
        }
    }

    @Test
    void aFileAskedForODirectOnAFilesystemWithoutItIsOneFd() throws Exception {
        // ramfs has no O_DIRECT on any kernel (tmpfs has since 6.6): the file falls back to the page cache
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to mount a ramfs (CI has it)");
        Path mnt = Files.createDirectory(dir.resolve("ramfs"));
        assumeTrue(new ProcessBuilder("mount", "-t", "ramfs", "none", mnt.toString()).start().waitFor() == 0,
                "mount -t ramfs refused");
        try {
            Path f = mnt.resolve("f.img");
            Files.write(f, new byte[1 << 20]);
            String one = ", { \"nsid\": 2, \"device\": { \"path\": \"" + f + "\" } }";
            target.apply(TargetConfig.parse(config(one, "", ""), "f.json"));
            BlockDevice d = target.subsystem(NQN).namespaces().get(2).device();
            assertFalse(d.directIo(), "ramfs refuses O_DIRECT");
            assertTrue(d.directRequested(), "buffered_io 0 is what the namespace asked for");
            String two = one + ", { \"nsid\": 3, \"device\": { \"path\": \"" + f + "\" } }";
            assertEquals(List.of("added namespace 3 (" + f + ") to " + NQN),
                    target.apply(TargetConfig.parse(config(two, "", ""), "f.json")));
            assertEquals(1, iop.devices().stream().filter(x -> x != null && x.name().equals(f.toString())).count(),
                    "the second namespace shares the fd");
            target.apply(TargetConfig.parse(config("", "", ""), "v1"));
        } finally {
            new ProcessBuilder("umount", "-l", mnt.toString()).start().waitFor();
        }
    }

    @Test
    void aBlockDeviceChangingBufferedIoTakesANewNamespaceInTheSameReload() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")) && Files.exists(Path.of("/dev/loop-control")),
                "needs root and loop devices (CI has both)");
        Path backing = dir.resolve("loop.img");
        Files.write(backing, new byte[4 << 20]);
        Process p = new ProcessBuilder("losetup", "--find", "--show", backing.toString()).start();
        String loop = new String(p.getInputStream().readAllBytes()).strip();
        assumeTrue(p.waitFor() == 0 && loop.startsWith("/dev/loop"), "losetup refused: " + loop);
        try {
            String ns2 = ", { \"nsid\": 2, \"device\": { \"path\": \"" + loop + "\"%s } }";
            target.apply(TargetConfig.parse(config(ns2.formatted(""), "", ""), "loop.json"));
            assertTrue(target.subsystem(NQN).namespaces().get(2).device().directIo());
            String buffered = ns2.formatted(", \"buffered_io\": 1")
                    + ns2.formatted(", \"buffered_io\": 1").replace("\"nsid\": 2", "\"nsid\": 3");
            // phase 1 opening nsid 3 in the new mode beside the old O_EXCL fd would be EBUSY
            assertEquals(List.of("removed namespace 2 (" + loop + ") from " + NQN,
                    "added namespace 2 (" + loop + ") to " + NQN + " through the page cache (buffered_io)",
                    "added namespace 3 (" + loop + ") to " + NQN + " through the page cache (buffered_io)"),
                    target.apply(TargetConfig.parse(config(buffered, "", ""), "loop.json")));
            assertFalse(oDirect(target.subsystem(NQN).namespaces().get(3).device()));
            assertEquals(1, iop.devices().stream().filter(x -> x != null && x.name().equals(loop)).count());
            target.apply(TargetConfig.parse(config("", "", ""), "v1"));
        } finally {
            new ProcessBuilder("losetup", "-d", loop).start().waitFor();
        }
    }

    @Test
    void refusedConfigChangesNothing() throws Exception {
        TargetConfig before = target.config();
        long gen = target.discoveryGeneration();
        int free;
        try (ServerSocket s = new ServerSocket(0)) {
            free = s.getLocalPort();
        }
        String newPort = ", { \"portid\": 2, \"addr\": { \"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\", "
                + "\"trsvcid\": \"" + free + "\" }, \"subsystems\": [ \"" + NQN + "\" ] }";
        ConfigException e = assertThrows(ConfigException.class, () -> target.apply(TargetConfig.parse(config(
                ", { \"nsid\": 3, \"device\": { \"path\": \"" + c + "\" } }, "
                        + "{ \"nsid\": 4, \"device\": { \"path\": \"" + dir.resolve("missing.img") + "\" } }",
                "", newPort), "bad.json")));
        assertEquals("$.subsystems[0].namespaces[2].device.path", e.path(), e.getMessage());
        assertEquals(before, target.config());
        assertEquals(gen, target.discoveryGeneration());
        assertEquals(1, target.subsystem(NQN).namespaces().size());
        assertFalse(open(c), "the device opened for namespace 3 was closed again");
        assertEquals(null, target.port(2));
        assertThrows(ConnectException.class, () -> RawHost.connect(free).close());
        // a serial change is refused with its path
        String serial = config("", "", "").replace("LIVE0001", "LIVE0002");
        ConfigException s = assertThrows(ConfigException.class, () -> target.apply(TargetConfig.parse(serial, "s.json")));
        assertEquals("$.subsystems[0].attr.serial", s.path());
        assertEquals(before, target.config());
    }

    @Test
    void subsystemAddedLinkedAndRemovedAndHostAccessCheckedAtConnect() throws Exception {
        String third = "nqn.2024-01.io.sanport:third";
        target.addSubsystem(new TargetConfig.SubsystemConfig(third, false, List.of(HOST), "THIRD001", "sanport",
                List.of(new TargetConfig.NamespaceConfig(1, true, c.toString(), null, null))));
        assertThrows(IllegalArgumentException.class, () -> target.addSubsystem(new TargetConfig.SubsystemConfig(third,
                true, List.of(), "THIRD001", "sanport", List.of())));
        try (RawHost notYet = RawHost.connect(port)) {
            notYet.hostnqn = HOST;
            assertFalse(notYet.connect(0, 31, 5000, 0xFFFF, third).ok(), "no port exports it yet");
        }
        target.addPortSubsystem(1, third);
        try (RawHost stranger = RawHost.connect(port)) {
            assertFalse(stranger.connect(0, 31, 5000, 0xFFFF, third).ok(), "only " + HOST + " may connect");
        }
        try (RawHost admin = RawHost.connect(port)) {
            admin.hostnqn = HOST;
            admin.adminQueue(third, 5000);
            // nvmet checks the host list at Connect only: the controller stays, a new Connect is refused
            target.removeAllowedHost(third, HOST);
            RawHost.ok(admin.keepAlive());
            try (RawHost again = RawHost.connect(port)) {
                again.hostnqn = HOST;
                assertFalse(again.connect(0, 31, 5000, 0xFFFF, third).ok());
            }
            target.setAllowAnyHost(third, true);
            try (RawHost any = RawHost.connect(port)) {
                any.adminQueue(third, 5000);
            }
            try (RawHost io = ioQueue(admin, third)) {
                byte[] data = new byte[4096];
                new Random(4).nextBytes(data);
                RawHost.ok(io.write(1, 0, data, LBA, true));
                assertTrue(open(c));
                target.removeSubsystem(third);
                assertThrows(IOException.class, () -> {
                    for (int i = 0; i < 50; i++) {
                        admin.keepAlive();
                        Thread.sleep(20);
                    }
                }, "the removed subsystem's controller is torn down");
            }
        }
        assertFalse(open(c), "its namespace's device is closed");
        assertEquals(null, target.subsystem(third));
        assertEquals(List.of(NQN, OTHER), target.config().ports().getFirst().subsystems());
        assertEquals(2, target.config().subsystems().size());
    }

    @Test
    void applyAddsAndRemovesPortsAndLinks() throws Exception {
        String second = ", { \"portid\": 2, \"addr\": { \"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"127.0.0.1\", "
                + "\"trsvcid\": \"0\" }, \"subsystems\": [ \"" + OTHER + "\" ] }";
        assertEquals(List.of("added port 2 (tcp 127.0.0.1:" + "%d)"), target.apply(TargetConfig.parse(config("", "", second),
                "v2")).stream().map(l -> l.replaceAll(":\\d+\\)", ":%d)")).toList());
        int p2 = target.port(2).boundPort();
        try (RawHost viaFirst = RawHost.connect(port);
             RawHost viaSecond = RawHost.connect(p2)) {
            viaFirst.adminQueue(OTHER, 5000);
            viaSecond.adminQueue(OTHER, 5000);
            try (RawHost refused = RawHost.connect(p2)) {
                assertFalse(refused.connect(0, 31, 5000, 0xFFFF, NQN).ok(), "port 2 exports only " + OTHER);
            }
            // port 1 stops exporting OTHER, port 2 goes: both controllers end; NQN's port stays
            String v3 = config("", "", "").replace("\"subsystems\": [ \"" + NQN + "\", \"" + OTHER + "\" ]",
                    "\"subsystems\": [ \"" + NQN + "\" ]");
            List<String> changes = target.apply(TargetConfig.parse(v3, "v3"));
            assertEquals(2, changes.size(), changes.toString());
            assertEquals("port 1 no longer exports " + OTHER, changes.get(0));
            assertTrue(changes.get(1).startsWith("removed port 2"), changes.toString());
            assertThrows(ConnectException.class, () -> RawHost.connect(p2).close());
            for (RawHost h : List.of(viaFirst, viaSecond)) {
                assertThrows(IOException.class, () -> {
                    for (int i = 0; i < 50; i++) {
                        h.keepAlive();
                        Thread.sleep(20);
                    }
                });
            }
            try (RawHost stays = RawHost.connect(port)) {
                stays.adminQueue(NQN, 5000);
            }
        }
    }

    @Test
    void portAddedAndRemoved() throws Exception {
        target.addPort(new TargetConfig.PortConfig(2, "tcp", "ipv4", "127.0.0.1", "0", List.of(NQN)));
        int second = target.port(2).boundPort();
        try (RawHost viaFirst = RawHost.connect(port);
             RawHost viaSecond = RawHost.connect(second)) {
            viaFirst.adminQueue(NQN, 5000);
            viaSecond.adminQueue(NQN, 5000);
            assertEquals(2, target.subsystem(NQN).controllers().size());
            target.removePort(2);
            assertThrows(ConnectException.class, () -> RawHost.connect(second).close());
            assertThrows(IOException.class, () -> {
                for (int i = 0; i < 50; i++) {
                    viaSecond.keepAlive();
                    Thread.sleep(20);
                }
            }, "the controller that came through the removed port is gone");
            RawHost.ok(viaFirst.keepAlive());
            assertEquals(1, target.subsystem(NQN).controllers().size());
            assertEquals(1, target.config().ports().size());
            // a port that stops exporting a subsystem ends the controllers that came through it
            target.removePortSubsystem(1, NQN);
            assertThrows(IOException.class, () -> {
                for (int i = 0; i < 50; i++) {
                    viaFirst.keepAlive();
                    Thread.sleep(20);
                }
            });
            try (RawHost refused = RawHost.connect(port)) {
                assertFalse(refused.connect(0, 31, 5000, 0xFFFF, NQN).ok());
            }
        }
    }
}
