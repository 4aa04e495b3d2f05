package io.sanport.bench.fuzz;

import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertySetCommand;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * A seeded fuzzer of NVMe/RDMA over real verbs (SoftRoCE in the VM soak): each case opens queues to a target
 * through the RDMA CM, brings one to a state (the CM request itself mutated; connected but before Connect; an
 * enabled admin queue; an I/O queue of a live controller) and sends one capsule of that state with seeded damage:
 * SGL types, keys, addresses and lengths at their edges (near 2^63, 2^32), short and over-long capsules, bad QIDs
 * and SQSIZEs, commands before Connect. The target must answer a CM request with an accept or a reject, and a
 * capsule with a 16-byte completion or by ending that queue, within {@link #TIMEOUT_MILLIS}; anything else is a
 * {@link TcpFuzzer.Finding}. Each case is a function of its own seed ({@link #runCase(long)} replays it).
 *
 * <p>Point it at a subsystem of its own: mutated writes land anywhere in that subsystem's namespaces.
 */
public final class RdmaFuzzer {
    /** How long the target may take to answer a capsule or a CM request (TCG guests are slow). */
    public static final int TIMEOUT_MILLIS = 10_000;
    static final String HOSTNQN = TcpFuzzer.HOSTNQN;

    enum Stage { CM_REQUEST, BEFORE_CONNECT, ADMIN_QUEUE, IO_QUEUE }

    /** Offsets and widths of the SQE fields worth damaging: opcode, flags, CID, NSID, SGL (address, length,
     *  keyed length, key, type), CDW10.. (Connect's RECFMT, QID, SQSIZE, KATO; SLBA, NLB). */
    private static final int[][] FIELDS = {{0, 1}, {1, 1}, {2, 2}, {4, 4}, {24, 8}, {32, 4}, {32, 3}, {35, 4}, {39, 1},
            {40, 4}, {40, 2}, {42, 2}, {44, 2}, {44, 4}, {48, 4}, {52, 4}};
    /** nvme_rdma_cm_req: recfmt, qid, hrqsize, hsqsize, cntlid. */
    private static final int[][] CM_FIELDS = {{0, 2}, {2, 2}, {4, 2}, {6, 2}, {8, 2}};

    private final String address;
    private final int port;
    private final String subnqn;
    private final List<TcpFuzzer.Finding> findings = new ArrayList<>();
    private final Map<String, Integer> tally = new TreeMap<>();
    private long cases;

    public RdmaFuzzer(String address, int port, String subnqn) {
        this.address = address;
        this.port = port;
        this.subnqn = subnqn;
    }

    /** Runs cases {@code 0..iterations-1} of {@code seed}, or until {@code stop}; returns the findings so far. */
    public List<TcpFuzzer.Finding> run(long seed, long iterations, BooleanSupplier stop) {
        for (long i = 0; i < iterations && !stop.getAsBoolean(); i++) {
            runCase(TcpFuzzer.caseSeed(seed ^ 0x5244_4D41L, i));
        }
        return findings();
    }

    public synchronized List<TcpFuzzer.Finding> findings() { return List.copyOf(findings); }
    public synchronized long cases() { return cases; }

    /** How the target answered the cases: CM rejects by status, completions by status, queues ended, with counts. */
    public synchronized Map<String, Integer> tally() { return new TreeMap<>(tally); }

    /** A valid host's admin queue (Connect, CC.EN, Keep Alive) on a fresh QP, then a disconnect: the port is alive. */
    public void probe() throws IOException {
        try (RdmaWireHost h = RdmaWireHost.open(address, port, RdmaWireHost.request(0, 32), TIMEOUT_MILLIS)) {
            h.adminQueue(subnqn, HOSTNQN, TIMEOUT_MILLIS);
            h.command(h.sqe(AdminOpcode.KEEP_ALIVE), TIMEOUT_MILLIS, "Keep Alive");
        }
    }

    /** One case; returns its finding, or null when the target behaved. */
    public synchronized TcpFuzzer.Finding runCase(long caseSeed) {
        cases++;
        SplittableRandom rnd = new SplittableRandom(caseSeed);
        Stage stage = Stage.values()[rnd.nextInt(Stage.values().length)];
        StringBuilder log = new StringBuilder(stage.name()).append(':');
        TcpFuzzer.Finding finding = null;
        RdmaWireHost admin = null;
        RdmaWireHost host = null;
        try {
            if (stage == Stage.CM_REQUEST) {
                byte[] req = cmRequest(rnd, log);
                try {
                    host = RdmaWireHost.open(address, port, req, TIMEOUT_MILLIS);
                    count("CM request accepted");
                } catch (RdmaWireHost.Rejected r) {
                    count("CM reject, NVMe/RDMA status " + (r.nvmeRdmaStatus < 0 ? "none" : "0x" + Integer.toHexString(r.nvmeRdmaStatus)));
                } catch (IOException e) {
                    finding = new TcpFuzzer.Finding(caseSeed, "the CM request got neither an accept nor a reject: " + e.getMessage(), log.toString());
                }
                return finding;
            }
            int qid;
            try {
                if (stage == Stage.IO_QUEUE) {
                    admin = RdmaWireHost.open(address, port, RdmaWireHost.request(0, 32), TIMEOUT_MILLIS);
                    admin.adminQueue(subnqn, HOSTNQN, TIMEOUT_MILLIS);
                }
                qid = switch (stage) {
                    case BEFORE_CONNECT -> rnd.nextInt(3);
                    case ADMIN_QUEUE -> 0;
                    default -> 1 + rnd.nextInt(2);
                };
                host = RdmaWireHost.open(address, port, RdmaWireHost.request(qid, qid == 0 ? 32 : 8), TIMEOUT_MILLIS);
                if (stage == Stage.ADMIN_QUEUE) host.adminQueue(subnqn, HOSTNQN, TIMEOUT_MILLIS);
                if (stage == Stage.IO_QUEUE) host.ioQueue(qid, 7, subnqn, HOSTNQN, admin.cntlid, TIMEOUT_MILLIS);
            } catch (IOException e) {
                return finding = new TcpFuzzer.Finding(caseSeed, "a valid host could not reach " + stage + ": " + e.getMessage(), log.toString());
            }
            byte[] capsule = mutate(base(stage, host, qid, subnqn, rnd, log), rnd, log);
            host.send(capsule);
            RdmaWireHost.Reply r = host.await(TIMEOUT_MILLIS);
            if (r == null) {
                finding = new TcpFuzzer.Finding(caseSeed, "neither a completion nor the queue ended within " + TIMEOUT_MILLIS + " ms", log.toString());
            } else if (r.isEnded()) {
                count("queue ended (" + (r.ended().startsWith("DISCONNECTED") ? "DISCONNECTED" : r.ended()) + ")");
            } else if (r.cqe().length != CompletionQueueEntry.SIZE) {
                finding = new TcpFuzzer.Finding(caseSeed, "a response of " + r.cqe().length + " bytes (a CQE is 16)", log.toString());
            } else {
                count("completion: " + Status.name(Status.code(r.status())));
            }
            if (admin != null && finding == null) {
                // the victim was an I/O queue: its controller's admin queue must not have been touched
                try {
                    admin.command(admin.sqe(AdminOpcode.KEEP_ALIVE), TIMEOUT_MILLIS, "Keep Alive on the admin queue");
                } catch (IOException e) {
                    finding = new TcpFuzzer.Finding(caseSeed, "the admin queue beside the victim failed: " + e.getMessage(), log.toString());
                }
            }
            return finding;
        } catch (IOException | RuntimeException e) {
            return finding = new TcpFuzzer.Finding(caseSeed, "host error: " + e, log.toString());
        } finally {
            if (host != null) host.close();
            if (admin != null) admin.close();
            if (finding != null) findings.add(finding);
        }
    }

    private void count(String outcome) {
        tally.merge(outcome, 1, Integer::sum);
    }

    /** A valid request for a random queue, then one or two fields at their edges, or cut short / grown. */
    static byte[] cmRequest(SplittableRandom rnd, StringBuilder log) {
        int qid = rnd.nextInt(3);
        byte[] b = RdmaWireHost.request(qid, qid == 0 ? 32 : 8);
        log.append(" qid ").append(qid);
        int n = 1 + rnd.nextInt(2);
        for (int i = 0; i < n; i++) {
            if (rnd.nextInt(6) == 0) {
                int len = rnd.nextInt(0, 57);
                b = Arrays.copyOf(b, len);
                log.append(" private data of ").append(len).append(" bytes");
            } else {
                setEdge(b, CM_FIELDS[rnd.nextInt(CM_FIELDS.length)], rnd, log);
            }
        }
        return b;
    }

    /** A valid capsule of the stage, before damage. */
    static byte[] base(Stage stage, RdmaWireHost h, int qid, String subnqn, SplittableRandom rnd, StringBuilder log) {
        int kind = rnd.nextInt(5);
        if (stage == Stage.BEFORE_CONNECT && kind < 3) {
            log.append(" Connect qid ").append(qid);
            return h.connectCapsule(qid, qid == 0 ? 31 : 7, subnqn, HOSTNQN, 0xFFFF);
        }
        if (stage == Stage.ADMIN_QUEUE || stage == Stage.BEFORE_CONNECT && qid == 0) {
            MemorySegment s = MemorySegment.ofArray(h.sqe(AdminOpcode.IDENTIFY));
            switch (kind) {
                case 0 -> {
                    SubmissionQueueEntry.cdw10(s, 1); // controller
                    keyed(s, h, 4096);
                    log.append(" Identify");
                }
                case 1 -> {
                    SubmissionQueueEntry.opcode(s, AdminOpcode.GET_LOG_PAGE);
                    SubmissionQueueEntry.cdw10(s, (512 / 4 - 1) << 16 | 0x02); // SMART, 512 bytes
                    SubmissionQueueEntry.nsid(s, -1);
                    keyed(s, h, 512);
                    log.append(" Get Log Page");
                }
                case 2 -> {
                    SubmissionQueueEntry.opcode(s, FabricsCommand.OPCODE);
                    FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_SET);
                    PropertySetCommand.ofst(s, Property.CC);
                    PropertySetCommand.value(s, 0x00460001);
                    log.append(" Property Set CC");
                }
                case 3 -> {
                    SubmissionQueueEntry.opcode(s, AdminOpcode.KEEP_ALIVE);
                    log.append(" Keep Alive");
                }
                default -> {
                    int op = rnd.nextInt(256);
                    SubmissionQueueEntry.opcode(s, op);
                    keyed(s, h, 512 * rnd.nextInt(1, 9));
                    log.append(" admin opcode 0x").append(Integer.toHexString(op));
                }
            }
            return s.toArray(ValueLayout.JAVA_BYTE);
        }
        int bytes = 512 * rnd.nextInt(1, 17);
        MemorySegment s = MemorySegment.ofArray(h.sqe(kind % 2 == 0 ? IoOpcode.WRITE : IoOpcode.READ));
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.slba(s, rnd.nextInt(0, 1024));
        SubmissionQueueEntry.nlb(s, bytes / 512 - 1);
        switch (kind) {
            case 0 -> { // write in the capsule
                SglDescriptor.set(s, SubmissionQueueEntry.OFFSET_DPTR, 0, bytes, SglDescriptor.ID_DATA_OFFSET);
                byte[] c = new byte[64 + bytes];
                MemorySegment.copy(s, 0, MemorySegment.ofArray(c), 0, 64);
                log.append(" Write in-capsule ").append(bytes);
                return c;
            }
            case 3 -> {
                SubmissionQueueEntry.opcode(s, IoOpcode.FLUSH);
                SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, 0, 0, 0, SglDescriptor.ID_KEYED);
                log.append(" Flush");
            }
            case 4 -> {
                int op = rnd.nextInt(256);
                SubmissionQueueEntry.opcode(s, op);
                keyed(s, h, bytes);
                log.append(" I/O opcode 0x").append(Integer.toHexString(op));
            }
            default -> {
                keyed(s, h, bytes);
                log.append(kind % 2 == 0 ? " keyed Write " : " keyed Read ").append(bytes);
            }
        }
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    private static void keyed(MemorySegment s, RdmaWireHost h, int bytes) {
        SglDescriptor.setKeyed(s, SubmissionQueueEntry.OFFSET_DPTR, h.dataAddress(), Math.min(bytes, RdmaWireHost.DATA_AREA),
                h.rkey(), SglDescriptor.ID_KEYED);
    }

    /** One or two of: cut short, grown past the target's receive buffer, a field set to an edge value. */
    static byte[] mutate(byte[] b, SplittableRandom rnd, StringBuilder log) {
        int n = 1 + rnd.nextInt(2);
        for (int i = 0; i < n; i++) {
            switch (rnd.nextInt(8)) {
                case 0 -> { // short: part of an SQE, or an SQE without the data its SGL promises
                    int len = rnd.nextBoolean() ? rnd.nextInt(0, 64) : Math.min(64, b.length);
                    b = Arrays.copyOf(b, len);
                    log.append(" cut to ").append(len);
                }
                case 1 -> { // long: up to past the target's 64 + 8 KiB receive buffer
                    int len = rnd.nextInt(b.length, RdmaWireHost.SEND_AREA + 1);
                    b = Arrays.copyOf(b, len);
                    log.append(" grown to ").append(len);
                }
                default -> setEdge(b, FIELDS[rnd.nextInt(FIELDS.length)], rnd, log);
            }
        }
        return b;
    }

    private static void setEdge(byte[] b, int[] f, SplittableRandom rnd, StringBuilder log) {
        if (f[0] + f[1] > b.length) return;
        long v = edge(rnd, f[1]);
        for (int k = 0; k < f[1]; k++) b[f[0] + k] = (byte) (v >>> (8 * k));
        log.append(" [").append(f[0]).append("..+").append(f[1]).append("]=0x").append(Long.toHexString(v));
    }

    /** A value at an edge of a field {@code width} bytes wide: 0, 1, all ones, the sign bit, near 2^63, ... */
    static long edge(SplittableRandom rnd, int width) {
        long max = width == 8 ? -1L : (1L << (width * 8)) - 1;
        return switch (rnd.nextInt(9)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> max;
            case 3 -> 1L << (width * 8 - 1);
            case 4 -> (1L << (width * 8 - 1)) - 1;
            case 5 -> width == 8 ? 0x7FFF_FFFF_FFFF_FC00L : max - 63;
            case 6 -> width == 1 ? new int[] {0x00, 0x01, 0x0A, 0x40, 0x4F, 0x5A, 0x20, 0x30}[rnd.nextInt(8)] : 8192 + 64;
            case 7 -> rnd.nextInt(0, 9000) & max;
            default -> rnd.nextLong() & max;
        };
    }
}
