package io.sanport.hostdriver;

import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.AnaLogPage;
import io.sanport.nvme.AnaState;
import io.sanport.nvme.ChangedNamespaceList;
import io.sanport.nvme.ErrorLogEntry;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.LogPageId;
import io.sanport.nvme.NamespaceDescriptor;
import io.sanport.nvme.SmartLog;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.Wire;
import io.sanport.nvme.fabrics.Property;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Admin commands of I/O and discovery controllers (nvmet {@code admin-cmd.c} and {@code discovery.c}):
 * Identify, Get/Set Features, Get Log Page, Keep Alive, Asynchronous Event Request. Parsing checks the opcode
 * against the controller type and the transfer length against what the command moves; execution fills the
 * request's buffer, which the transport then sends.
 */
final class Admin {
    static final String FIRMWARE = "0.1.0";
    /** Identify ANATT: the longest an ANA transition (state "change") lasts, in seconds (nvmet's value). */
    static final int ANATT_SECONDS = 10;

    private Admin() {}

    static int parse(Request r, Controller c) {
        MemorySegment sqe = r.sqe;
        int opcode = r.opcode();
        if ((c.cc() & Property.CC_EN) == 0 || !c.ready()) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_OPCODE;
            return Status.CMD_SEQ_ERROR;
        }
        r.hostToController = false;
        return switch (opcode) {
            case AdminOpcode.IDENTIFY -> Fabrics.expect(r, IdentifyCns.DATA_SIZE);
            case AdminOpcode.GET_LOG_PAGE -> {
                long lpo = SubmissionQueueEntry.logPageOffset(sqe);
                if ((lpo & 3) != 0) {
                    r.errorLocation = (int) SubmissionQueueEntry.OFFSET_CDW12;
                    yield Status.INVALID_FIELD;
                }
                int code = Fabrics.expect(r, SubmissionQueueEntry.logPageLength(sqe));
                if (code == Status.SUCCESS && r.dataLength > r.queue.context.pool().bufferSize()) {
                    r.errorLocation = (int) SubmissionQueueEntry.OFFSET_CDW10 + 2;
                    yield Status.INVALID_FIELD;
                }
                yield code;
            }
            case AdminOpcode.SET_FEATURES, AdminOpcode.GET_FEATURES, AdminOpcode.ASYNC_EVENT, AdminOpcode.KEEP_ALIVE ->
                    Fabrics.expect(r, 0);
            default -> {
                r.errorLocation = (int) SubmissionQueueEntry.OFFSET_OPCODE;
                yield Status.INVALID_OPCODE;
            }
        };
    }

    static void execute(Request r, Controller c) {
        switch (r.opcode()) {
            case AdminOpcode.IDENTIFY -> identify(r, c);
            case AdminOpcode.GET_LOG_PAGE -> getLogPage(r, c);
            case AdminOpcode.SET_FEATURES -> setFeatures(r, c);
            case AdminOpcode.GET_FEATURES -> getFeatures(r, c);
            case AdminOpcode.KEEP_ALIVE -> { } // the activity stamp at start() restarted the timer
            case AdminOpcode.ASYNC_EVENT -> {
                if (c.holdAer(r)) {
                    return; // completes on an event, or fails when the queue goes
                }
                r.fail(Status.ASYNC_LIMIT, (int) SubmissionQueueEntry.OFFSET_OPCODE);
            }
            default -> r.fail(Status.INVALID_OPCODE, (int) SubmissionQueueEntry.OFFSET_OPCODE);
        }
        r.queue.complete(r);
    }

    // ---------------------------------------------------------------- Identify

    private static void identify(Request r, Controller c) {
        MemorySegment sqe = r.sqe;
        MemorySegment b = r.data();
        b.fill((byte) 0);
        int cns = SubmissionQueueEntry.cns(sqe);
        int csi = SubmissionQueueEntry.identifyCsi(sqe);
        if (c.isDiscovery() && cns != IdentifyCns.CTRL) {
            r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
            return;
        }
        switch (cns) {
            case IdentifyCns.CTRL -> identifyController(r, c, b);
            case IdentifyCns.NS -> {
                Namespace ns = namespace(r, c);
                if (ns != null) {
                    identifyNamespace(ns, b);
                }
            }
            case IdentifyCns.NS_ACTIVE_LIST -> {
                int after = SubmissionQueueEntry.nsid(sqe);
                if (Integer.compareUnsigned(after, 0xFFFFFFFE) >= 0) {
                    r.fail(Status.INVALID_NS, (int) SubmissionQueueEntry.OFFSET_NSID);
                    return;
                }
                int i = 0;
                for (Namespace ns : c.subsystem().namespaces().tailMap(after, false).values()) {
                    if (ns.enabled() && i < 1024) {
                        b.set(Wire.U32, 4L * i++, ns.nsid());
                    }
                }
            }
            case IdentifyCns.NS_DESC_LIST -> {
                Namespace ns = namespace(r, c);
                if (ns != null) {
                    descriptors(ns, b);
                }
            }
            case IdentifyCns.CSI_CTRL -> {
                // NVM command set controller: no WZSL/DMRL/DMRSL limits beyond MDTS (all zero)
                if (csi != IdentifyCns.CSI_NVM) {
                    r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW11 + 3);
                }
            }
            default -> r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
        }
    }

    /** The enabled namespace the command's NSID names, or null with Invalid Namespace set. */
    private static Namespace namespace(Request r, Controller c) {
        Namespace ns = c.subsystem().namespace(SubmissionQueueEntry.nsid(r.sqe));
        if (ns == null) {
            r.fail(Status.INVALID_NS, (int) SubmissionQueueEntry.OFFSET_NSID);
        }
        return ns;
    }

    /** Identify Controller with the values of the fact sheet's §7.5 ("known to satisfy the 6.1 host"). */
    static void identifyController(Request r, Controller c, MemorySegment b) {
        Subsystem s = c.subsystem();
        Target t = r.queue.target;
        RemoteTransport transport = r.queue.port.transport();
        IdentifyController.sn(b, s.serial());
        IdentifyController.mn(b, s.model());
        IdentifyController.fr(b, FIRMWARE);
        IdentifyController.rab(b, 6);
        IdentifyController.cntlid(b, c.cntlid());
        IdentifyController.ver(b, Controller.VS);
        IdentifyController.oaes(b, c.oaes());
        IdentifyController.ctratt(b, IdentifyController.CTRATT_HOST_ID_128);
        IdentifyController.acl(b, 3);
        IdentifyController.aerl(b, Controller.AER_LIMIT - 1);
        IdentifyController.lpa(b, IdentifyController.LPA_EXTENDED_DATA);
        IdentifyController.elpe(b, Controller.ERROR_LOG_ENTRIES - 1);
        IdentifyController.kas(b, Controller.KAS);
        IdentifyController.sqes(b, IdentifyController.SQES_64);
        IdentifyController.cqes(b, IdentifyController.CQES_16);
        IdentifyController.maxcmd(b, Controller.MQES + 1);
        IdentifyController.sgls(b, transport.sgls());
        IdentifyController.subnqn(b, s.nqn());
        IdentifyController.ioccsz(b, transport.ioccsz());
        IdentifyController.iorcsz(b, 1);
        IdentifyController.icdoff(b, 0);
        IdentifyController.msdbd(b, 1);
        if (c.isDiscovery()) {
            IdentifyController.cntrltype(b, IdentifyController.CNTRLTYPE_DISCOVERY);
            IdentifyController.mdts(b, 0);
            return;
        }
        IdentifyController.cntrltype(b, IdentifyController.CNTRLTYPE_IO);
        IdentifyController.cmic(b, IdentifyController.CMIC_MULTI_PORT | IdentifyController.CMIC_MULTI_CTRL
                | IdentifyController.CMIC_ANA);
        // ANA as nvmet: every state may be reported, transitions take at most ANATT seconds, 128 groups
        IdentifyController.anacap(b, AnaState.ANACAP_ALL);
        IdentifyController.anatt(b, ANATT_SECONDS);
        IdentifyController.anagrpmax(b, AnaGroup.MAX_GRPID);
        IdentifyController.nanagrpid(b, AnaGroup.MAX_GRPID);
        IdentifyController.mdts(b, t.mdts());
        // With CMIC.ANA the Linux host refuses MNAN 0 or above NN, and sizes its ANA log buffer by MNAN: MNAN = NN,
        // at least 1 (a subsystem without namespaces yet). A namespace added later with a higher NSID grows NN for
        // the next connect; the host's buffer is that of its connect until then (nvmet avoids it with a fixed 1024).
        int nn = s.maxNsid() == 0 ? 1 : s.maxNsid(); // NSIDs are unsigned
        IdentifyController.nn(b, nn);
        IdentifyController.mnan(b, nn);
        int oncs = 0;
        for (Namespace ns : s.namespaces().values()) {
            if (ns.device().supportsDiscard()) oncs |= IdentifyController.ONCS_DSM;
            if (ns.device().supportsWriteZeroes()) oncs |= IdentifyController.ONCS_WRITE_ZEROES;
        }
        IdentifyController.oncs(b, oncs);
        // a file's page cache and a disk's cache both need Flush; nvmet always reports a cache too
        IdentifyController.vwc(b, IdentifyController.VWC_PRESENT);
    }

    static void identifyNamespace(Namespace ns, MemorySegment b) {
        long blocks = ns.blocks();
        IdentifyNamespace.nsze(b, blocks);
        IdentifyNamespace.ncap(b, blocks);
        IdentifyNamespace.nuse(b, blocks);
        IdentifyNamespace.nlbaf(b, 0);
        IdentifyNamespace.flbas(b, 0);
        IdentifyNamespace.nmic(b, IdentifyNamespace.NMIC_SHARED); // several controllers, several paths
        IdentifyNamespace.anagrpid(b, ns.anaGrpId());
        if (ns.device().supportsDiscard() && ns.device().deallocateReadsZeroes()) {
            IdentifyNamespace.dlfeat(b, IdentifyNamespace.DLFEAT_READ_ZEROES); // only where the device kind guarantees it
        }
        int pbs = Math.max(ns.device().physicalBlockSize(), 1 << ns.lbaShift()) >> ns.lbaShift();
        if (pbs > 1) {
            IdentifyNamespace.nsfeat(b, IdentifyNamespace.NSFEAT_IO_OPT);
            IdentifyNamespace.npwg(b, pbs - 1);
            IdentifyNamespace.nows(b, pbs - 1);
        }
        if (ns.readOnly()) {
            IdentifyNamespace.nsattr(b, IdentifyNamespace.NSATTR_WRITE_PROTECTED);
        }
        MemorySegment.copy(MemorySegment.ofArray(ns.nguidRaw()), 0, b, IdentifyNamespace.OFFSET_NGUID, 16);
        IdentifyNamespace.lbafLbads(b, 0, ns.lbaShift());
    }

    static void descriptors(Namespace ns, MemorySegment b) {
        long at = 0;
        at = NamespaceDescriptor.put(b, at, NamespaceDescriptor.NIDT_NGUID, MemorySegment.ofArray(ns.nguidRaw()));
        byte[] uuid = new byte[16];
        MemorySegment u = MemorySegment.ofArray(uuid);
        Wire.setUuid(u, 0, ns.uuid());
        at = NamespaceDescriptor.put(b, at, NamespaceDescriptor.NIDT_UUID, u);
        NamespaceDescriptor.put(b, at, NamespaceDescriptor.NIDT_CSI, MemorySegment.ofArray(new byte[] {IdentifyCns.CSI_NVM}));
    }

    // ---------------------------------------------------------------- Features

    private static void setFeatures(Request r, Controller c) {
        MemorySegment sqe = r.sqe;
        int fid = SubmissionQueueEntry.featureId(sqe);
        int cdw11 = SubmissionQueueEntry.cdw11(sqe);
        if ((SubmissionQueueEntry.cdw10(sqe) & SubmissionQueueEntry.FEATURES_SV) != 0) {
            r.fail(Status.FEATURE_NOT_SAVEABLE, (int) SubmissionQueueEntry.OFFSET_CDW10 + 3);
            return;
        }
        switch (fid) {
            case FeatureId.NUM_QUEUES -> {
                if (c.isDiscovery()) {
                    r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
                } else if ((cdw11 & 0xFFFF) == 0xFFFF || cdw11 >>> 16 == 0xFFFF) {
                    r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW11);
                } else {
                    r.dw0 = FeatureId.numQueues(Controller.MAX_IO_QUEUES - 1, Controller.MAX_IO_QUEUES - 1);
                }
            }
            case FeatureId.KATO -> {
                long kato = Controller.boundKato(Integer.toUnsignedLong(cdw11), c.isDiscovery(), r.queue.target.options());
                if (kato < 0) {
                    r.fail(Status.KEEP_ALIVE_INVALID, (int) SubmissionQueueEntry.OFFSET_CDW11);
                } else {
                    c.katoMs(kato);
                    r.dw0 = (int) kato;
                }
            }
            case FeatureId.ASYNC_EVENT -> {
                if ((cdw11 & ~c.oaes()) != 0) {
                    r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW11);
                } else {
                    c.aec(cdw11);
                    r.dw0 = cdw11;
                }
            }
            default -> r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
        }
    }

    private static void getFeatures(Request r, Controller c) {
        int fid = SubmissionQueueEntry.featureId(r.sqe);
        switch (fid) {
            case FeatureId.KATO -> r.dw0 = (int) c.katoMs();
            case FeatureId.ASYNC_EVENT -> r.dw0 = c.aec();
            case FeatureId.NUM_QUEUES -> {
                if (c.isDiscovery()) {
                    r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
                } else {
                    r.dw0 = FeatureId.numQueues(Controller.MAX_IO_QUEUES - 1, Controller.MAX_IO_QUEUES - 1);
                }
            }
            case FeatureId.VOLATILE_WC -> {
                if (c.isDiscovery()) {
                    r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
                } else {
                    r.dw0 = 1;
                }
            }
            default -> r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
        }
    }

    // ---------------------------------------------------------------- Log pages

    private static void getLogPage(Request r, Controller c) {
        MemorySegment sqe = r.sqe;
        int lid = SubmissionQueueEntry.logPageId(sqe);
        long offset = SubmissionQueueEntry.logPageOffset(sqe);
        boolean retain = SubmissionQueueEntry.retainAsyncEvent(sqe);
        MemorySegment b = r.data();
        b.fill((byte) 0);
        if (c.isDiscovery() != (lid == LogPageId.DISCOVERY)) {
            r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment log = switch (lid) {
                case LogPageId.ERROR -> errorLog(c, arena);
                case LogPageId.SMART -> smartLog(c, arena);
                case LogPageId.CHANGED_NS -> changedNamespaces(c, retain, arena);
                case LogPageId.DISCOVERY -> r.queue.target.discoveryLog(c, r.queue, arena);
                case LogPageId.ANA -> c.isDiscovery() ? null : anaLog(c, SubmissionQueueEntry.logSpecificField(sqe),
                        retain, arena);
                default -> null;
            };
            if (log == null) {
                r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW10);
                return;
            }
            // LPO is unsigned 64-bit: past the end is Invalid Field, and the length is computed as size - offset.
            // The ANA log's size is the largest it can be (what hosts size their buffer by, and nvme-cli reads in
            // 4 KiB pieces up to): its bytes past the groups are zeros.
            long size = lid == LogPageId.ANA ? Math.max(log.byteSize(), anaLogMaxSize(c)) : log.byteSize();
            if (Long.compareUnsigned(offset, size) > 0) {
                r.fail(Status.INVALID_FIELD, (int) SubmissionQueueEntry.OFFSET_CDW12);
                return;
            }
            long n = Math.min(b.byteSize(), Math.min(size, log.byteSize()) - offset);
            if (n > 0) {
                MemorySegment.copy(log, offset, b, 0, n);
            }
        }
    }

    private static MemorySegment errorLog(Controller c, Arena arena) {
        var entries = c.errors();
        MemorySegment log = arena.allocate(Math.max(1, entries.size()) * ErrorLogEntry.SIZE);
        int i = 0;
        for (long[] e : entries) {
            MemorySegment s = log.asSlice(i++ * ErrorLogEntry.SIZE, ErrorLogEntry.SIZE);
            ErrorLogEntry.errorCount(s, e[0]);
            ErrorLogEntry.sqid(s, (int) e[1]);
            ErrorLogEntry.cid(s, (int) e[2]);
            ErrorLogEntry.statusField(s, (int) e[3]);
            ErrorLogEntry.parameterErrorLocation(s, (int) e[4]);
            ErrorLogEntry.lba(s, e[5]);
            ErrorLogEntry.nsid(s, (int) e[6]);
            ErrorLogEntry.trtype(s, c.port().transport().trtype());
        }
        return log;
    }

    private static MemorySegment smartLog(Controller c, Arena arena) {
        MemorySegment s = arena.allocate(SmartLog.SIZE);
        SmartLog.temperature(s, 273 + 30); // Kelvin; there is no sensor behind a file or a RAM disk
        SmartLog.availableSpare(s, 100);
        SmartLog.availableSpareThreshold(s, 10);
        SmartLog.dataUnitsRead(s, ((c.bytesRead() >>> 9) + 999) / 1000); // units of 1000 x 512 bytes
        SmartLog.dataUnitsWritten(s, ((c.bytesWritten() >>> 9) + 999) / 1000);
        SmartLog.hostReadCommands(s, c.readCommands());
        SmartLog.hostWriteCommands(s, c.writeCommands());
        SmartLog.mediaErrors(s, c.mediaErrors.sum());
        SmartLog.errorLogEntries(s, c.errorCount());
        return s;
    }

    /**
     * The ANA log of the controller's port (nvmet {@code nvmet_execute_get_log_page_ana}): group 1, every group
     * configured on the port and every group a namespace of the subsystem is in, by grpid; each with its state
     * through the port, the change count of its last change and, unless RGO, its namespaces' IDs.
     */
    private static MemorySegment anaLog(Controller c, int lsp, boolean retain, Arena arena) {
        boolean groupsOnly = (lsp & AnaLogPage.LSP_RGO) != 0;
        Port port = c.port();
        java.util.TreeMap<Integer, java.util.List<Integer>> groups = new java.util.TreeMap<>();
        groups.put(AnaGroup.DEFAULT_GRPID, new java.util.ArrayList<>());
        for (AnaGroup g : port.anaGroups()) {
            groups.computeIfAbsent(g.grpid(), k -> new java.util.ArrayList<>());
        }
        for (Namespace ns : c.subsystem().namespaces().values()) {
            java.util.List<Integer> ids = groups.computeIfAbsent(ns.anaGrpId(), k -> new java.util.ArrayList<>());
            if (ns.enabled()) {
                ids.add(ns.nsid());
            }
        }
        long length = AnaLogPage.HEADER_SIZE;
        for (java.util.List<Integer> ids : groups.values()) {
            length += AnaLogPage.descriptorLength(groupsOnly ? 0 : ids.size());
        }
        MemorySegment log = arena.allocate(length);
        AnaLogPage.chgcnt(log, c.target().anaChangeCount());
        AnaLogPage.ngrps(log, groups.size());
        long at = AnaLogPage.HEADER_SIZE;
        for (var e : groups.entrySet()) {
            int n = groupsOnly ? 0 : e.getValue().size();
            MemorySegment d = log.asSlice(at, AnaLogPage.descriptorLength(n));
            AnaGroup g = port.anaGroup(e.getKey());
            AnaLogPage.grpid(d, e.getKey());
            AnaLogPage.nnsids(d, n);
            AnaLogPage.groupChgcnt(d, g != null ? g.chgcnt() : 0);
            AnaLogPage.state(d, port.anaState(e.getKey()).value());
            for (int i = 0; i < n; i++) {
                AnaLogPage.nsid(d, i, e.getValue().get(i));
            }
            at += d.byteSize();
        }
        c.anaLogRead(retain);
        return log;
    }

    /** The ANA log at its largest: header, NANAGRPID descriptors, MNAN (= NN) namespace IDs (Linux's ana_log_size). */
    private static long anaLogMaxSize(Controller c) {
        int nn = c.subsystem().maxNsid() == 0 ? 1 : c.subsystem().maxNsid();
        return AnaLogPage.HEADER_SIZE + (long) AnaGroup.MAX_GRPID * AnaLogPage.DESCRIPTOR_SIZE
                + 4L * Integer.toUnsignedLong(nn);
    }

    private static MemorySegment changedNamespaces(Controller c, boolean retain, Arena arena) {
        MemorySegment s = arena.allocate(ChangedNamespaceList.SIZE);
        int[] list = c.changedNamespaces(retain);
        if (list.length >= ChangedNamespaceList.MAX_ENTRIES) {
            ChangedNamespaceList.nsid(s, 0, ChangedNamespaceList.OVERFLOW);
        } else {
            for (int i = 0; i < list.length; i++) {
                ChangedNamespaceList.nsid(s, i, list[i]);
            }
        }
        return s;
    }
}
