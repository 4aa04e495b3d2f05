package io.sanport.bench.fuzz;

import io.sanport.bench.fuzz.PduMutator.Field;
import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import io.sanport.nvme.fabrics.PropertySetCommand;
import io.sanport.nvme.tcp.H2CData;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import io.sanport.nvme.tcp.TermReq;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * A seeded fuzzer of NVMe/TCP: each case opens raw connections to a target, brings them to a state (nothing,
 * after ICReq, with an enabled admin queue, with an I/O queue), sends valid PDUs of that state with seeded
 * mutations (header fields, SQE fields, digests, truncation, garbage), answers an R2T with a possibly mutated
 * H2CData, then half-closes. Whatever the target did before, it must then end the connection within
 * {@link #CLOSE_TIMEOUT_MILLIS}, and every PDU it sent must be framed sanely; a case where it does not is a
 * {@link Finding}. Each case is a function of its own seed, so a finding is replayed by {@link #runCase(long)}.
 *
 * <p>Point it at a subsystem of its own: mutated SLBA/NSID writes land anywhere in that subsystem's namespaces.
 */
public final class TcpFuzzer {
    /** How long the target may take to end a connection after the host's FIN, or to answer a valid host. */
    public static final int CLOSE_TIMEOUT_MILLIS = 5_000;
    static final String HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-4000-8000-00000000f022";

    /** A case the target got wrong, with the seed that replays it. */
    public record Finding(long caseSeed, String problem, String what) {
        @Override
        public String toString() {
            return "case 0x" + Long.toHexString(caseSeed) + ": " + problem + " [" + what + "]";
        }
    }

    enum Stage { RAW, AFTER_ICREQ, ADMIN_QUEUE, IO_QUEUE }

    private final String address;
    private final int port;
    private final String subnqn;
    private final int timeoutMillis;
    private final List<Finding> findings = new ArrayList<>();
    private final Map<String, Integer> tally = new TreeMap<>();
    private long cases;

    public TcpFuzzer(String address, int port, String subnqn) {
        this(address, port, subnqn, CLOSE_TIMEOUT_MILLIS);
    }

    public TcpFuzzer(String address, int port, String subnqn, int timeoutMillis) {
        this.address = address;
        this.port = port;
        this.subnqn = subnqn;
        this.timeoutMillis = timeoutMillis;
    }

    /** The seed of case {@code i} of a run seeded {@code seed}. */
    public static long caseSeed(long seed, long i) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Runs cases {@code 0..iterations-1} of {@code seed}, or until {@code stop}; returns the findings so far. */
    public List<Finding> run(long seed, long iterations, BooleanSupplier stop) {
        for (long i = 0; i < iterations && !stop.getAsBoolean(); i++) {
            runCase(caseSeed(seed, i));
        }
        return findings();
    }

    public synchronized List<Finding> findings() { return List.copyOf(findings); }
    public synchronized long cases() { return cases; }

    /** How the target ended the cases: C2HTermReq, error completion, close... with counts. */
    public synchronized Map<String, Integer> tally() { return new TreeMap<>(tally); }

    /**
     * A valid host's ICReq and admin Connect on a fresh connection, then a clean close: the port is alive.
     * Call it once before a descriptor baseline too, since the JDK opens a socket of its own on first use.
     */
    public void probe() throws IOException {
        try (WireHost h = new WireHost(address, port, false, false, HOSTNQN, timeoutMillis)) {
            h.initialize();
            h.adminQueue(subnqn);
        }
    }

    /** One case; returns its finding, or null when the target behaved. */
    public synchronized Finding runCase(long caseSeed) {
        cases++;
        SplittableRandom rnd = new SplittableRandom(caseSeed);
        Stage stage = Stage.values()[rnd.nextInt(Stage.values().length)];
        boolean hdgst = stage != Stage.RAW && rnd.nextInt(3) == 0;
        boolean ddgst = stage != Stage.RAW && rnd.nextInt(3) == 0;
        StringBuilder log = new StringBuilder(stage.name()).append(hdgst ? " hdgst" : "").append(ddgst ? " ddgst" : "").append(':');
        Outcome outcome = new Outcome();
        WireHost admin = null;
        WireHost host = null;
        Finding finding = null;
        try {
            try {
                if (stage == Stage.IO_QUEUE) {
                    admin = new WireHost(address, port, false, false, HOSTNQN, timeoutMillis);
                    admin.initialize();
                    admin.adminQueue(subnqn);
                }
                host = new WireHost(address, port, hdgst, ddgst, HOSTNQN, timeoutMillis);
                if (stage != Stage.RAW) host.initialize();
                if (stage == Stage.ADMIN_QUEUE) host.adminQueue(subnqn);
                if (stage == Stage.IO_QUEUE) host.ioQueue(subnqn, admin.cntlid);
            } catch (IOException e) {
                return finding = new Finding(caseSeed, "a valid host could not reach " + stage + ": " + e, log.toString());
            }
            PduMutator m = new PduMutator(rnd);
            List<Base> bases = bases(stage, host, rnd);
            int target = rnd.nextInt(bases.size());
            Base r2tWrite = null;
            for (int i = 0; i < bases.size(); i++) {
                Base b = bases.get(i);
                log.append(" [").append(b.name);
                byte[] bytes = i == target || rnd.nextInt(4) == 0 ? m.mutate(b.pdu, b.fields, hdgst, log) : b.pdu;
                log.append(']');
                sendChunked(host, bytes, rnd);
                if (b.r2t) r2tWrite = b;
            }
            if (rnd.nextInt(8) == 0) sendChunked(host, m.garbage(log), rnd);
            if (r2tWrite != null) answerR2t(host, m, rnd, outcome, log);
            host.socket.shutdownOutput();
            if (!host.drainUntilClosed(outcome, System.nanoTime() + timeoutMillis * 1_000_000L)) {
                return finding = new Finding(caseSeed, "the target did not close the connection within "
                        + timeoutMillis + " ms of the host's FIN", log.toString());
            }
            if (admin != null) {
                admin.socket.shutdownOutput();
                if (!admin.drainUntilClosed(new Outcome(), System.nanoTime() + timeoutMillis * 1_000_000L)) {
                    return finding = new Finding(caseSeed, "the target did not close the admin connection within "
                            + timeoutMillis + " ms of the host's FIN", log.toString());
                }
            }
            if (outcome.termReqs > 0 && outcome.lastFes != -1
                    && (outcome.lastFes < TermReq.FES_INVALID_HEADER_FIELD || outcome.lastFes > TermReq.FES_UNSUPPORTED_PARAMETER)) {
                return finding = new Finding(caseSeed, "C2HTermReq with an undefined FES " + outcome.lastFes, log.toString());
            }
            tally.merge(outcome.kind(), 1, Integer::sum);
            return null;
        } catch (WireHost.MalformedResponse e) {
            return finding = new Finding(caseSeed, e.getMessage(), log.toString());
        } catch (IOException e) {
            // the target reset the connection while we were still sending: it refused the bytes, which is fine
            tally.merge("reset while sending", 1, Integer::sum);
            return null;
        } finally {
            if (finding != null) findings.add(finding);
            closeQuietly(host);
            closeQuietly(admin);
        }
    }

    private static void closeQuietly(WireHost h) {
        if (h == null) return;
        try {
            h.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Writes in one go or in a few pieces, so the target's PDU reassembly sees partial headers too. */
    private static void sendChunked(WireHost host, byte[] bytes, SplittableRandom rnd) throws IOException {
        if (rnd.nextInt(4) != 0 || bytes.length < 2) {
            host.send(bytes);
            return;
        }
        int at = 0;
        while (at < bytes.length) {
            int n = Math.min(bytes.length - at, rnd.nextInt(1, 80));
            host.out.write(bytes, at, n);
            host.out.flush();
            at += n;
        }
    }

    /** Waits briefly for an R2T and answers it with H2CData, mutated half of the time. */
    private static void answerR2t(WireHost host, PduMutator m, SplittableRandom rnd, Outcome outcome, StringBuilder log)
            throws IOException {
        int wait = Math.min(1_000, host.readTimeoutMillis);
        long deadline = System.nanoTime() + wait * 1_000_000L;
        host.socket.setSoTimeout(wait);
        try {
            while (System.nanoTime() < deadline) {
                MemorySegment pdu = host.readPdu();
                if (pdu == null) return;
                if (PduHeader.type(pdu) != PduHeader.TYPE_R2T || pdu.byteSize() < R2T.HLEN) {
                    outcome.saw(pdu);
                    if (PduHeader.type(pdu) == PduHeader.TYPE_C2H_TERM_REQ) return;
                    continue;
                }
                int len = (int) Math.min(R2T.r2tl(pdu), 64 * 1024);
                byte[] h2c = h2cData(host, R2T.cccid(pdu), R2T.ttag(pdu), (int) R2T.r2to(pdu), len, true, rnd);
                log.append(" [H2CData for R2T");
                byte[] bytes = rnd.nextBoolean() ? m.mutate(h2c, PduMutator.H2C_DATA, host.hdgst, log) : h2c;
                log.append(']');
                sendChunked(host, bytes, rnd);
                return;
            }
        } catch (SocketTimeoutException e) {
            // no R2T: the write was refused or its capsule mutated past recognition
        } finally {
            host.socket.setSoTimeout(host.readTimeoutMillis);
        }
    }

    static byte[] h2cData(WireHost host, int cid, int ttag, int offset, int len, boolean last, SplittableRandom rnd) {
        int hd = host.hdgst ? 4 : 0;
        int dd = host.ddgst ? 4 : 0;
        int plen = H2CData.HLEN + hd + len + dd;
        MemorySegment p = MemorySegment.ofArray(new byte[plen]);
        int flags = (host.hdgst ? PduHeader.FLAG_HDGSTF : 0) | (host.ddgst ? PduHeader.FLAG_DDGSTF : 0)
                | (last ? PduHeader.FLAG_LAST_PDU : 0);
        PduHeader.set(p, PduHeader.TYPE_H2C_DATA, flags, H2CData.HLEN, H2CData.HLEN + hd, plen);
        H2CData.cccid(p, cid);
        H2CData.ttag(p, ttag);
        H2CData.datao(p, offset);
        H2CData.datal(p, len);
        for (int i = 0; i < len; i += 64) p.set(ValueLayout.JAVA_BYTE, H2CData.HLEN + hd + i, (byte) rnd.nextInt(256));
        if (host.hdgst) host.crc.put(p, 0, H2CData.HLEN);
        if (host.ddgst) host.crc.put(p, H2CData.HLEN + hd, len);
        return p.toArray(ValueLayout.JAVA_BYTE);
    }

    /** A valid PDU of a state, with the fields a mutation may touch and whether the target answers it by R2T. */
    private record Base(String name, byte[] pdu, List<Field> fields, boolean r2t) {}

    private List<Base> bases(Stage stage, WireHost h, SplittableRandom rnd) {
        int n = 1 + (rnd.nextInt(3) == 0 ? rnd.nextInt(1, 3) : 0);
        List<Base> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(switch (stage) {
                case RAW -> raw(h, rnd);
                case AFTER_ICREQ -> afterIcReq(h, rnd);
                case ADMIN_QUEUE -> admin(h, rnd);
                case IO_QUEUE -> io(h, rnd);
            });
        }
        return out;
    }

    private Base raw(WireHost h, SplittableRandom rnd) {
        return switch (rnd.nextInt(4)) {
            case 0, 1 -> new Base("ICReq", h.icReq(), PduMutator.IC_REQ, false);
            case 2 -> new Base("Connect before ICReq", h.connectCapsule(0, 31, 5000, ConnectData.CNTLID_DYNAMIC, subnqn),
                    PduMutator.SQE, false);
            default -> new Base("H2CTermReq", termReq(), List.of(), false);
        };
    }

    private static byte[] termReq() {
        MemorySegment p = MemorySegment.ofArray(new byte[TermReq.HLEN]);
        PduHeader.set(p, PduHeader.TYPE_H2C_TERM_REQ, 0, TermReq.HLEN, 0, TermReq.HLEN);
        TermReq.fes(p, TermReq.FES_INVALID_HEADER_FIELD);
        return p.toArray(ValueLayout.JAVA_BYTE);
    }

    private Base afterIcReq(WireHost h, SplittableRandom rnd) {
        return switch (rnd.nextInt(5)) {
            case 0, 1 -> new Base("admin Connect", h.connectCapsule(0, rnd.nextInt(1, 128), rnd.nextInt(0, 200_000),
                    ConnectData.CNTLID_DYNAMIC, subnqn), PduMutator.SQE, false);
            case 2 -> new Base("I/O Connect", h.connectCapsule(rnd.nextInt(1, 4), 31, 0, rnd.nextInt(1, 4), subnqn),
                    PduMutator.SQE, false);
            case 3 -> new Base("second ICReq", h.icReq(), PduMutator.IC_REQ, false);
            default -> new Base("Property Get before Connect", propertyGet(h, rnd), PduMutator.SQE, false);
        };
    }

    private static byte[] propertyGet(WireHost h, SplittableRandom rnd) {
        MemorySegment s = WireHost.sqe(FabricsCommand.OPCODE, h.cid());
        FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_GET);
        PropertyGetCommand.attrib(s, rnd.nextInt(2));
        PropertyGetCommand.ofst(s, rnd.nextInt(0, 0x80) & ~3);
        return h.capsule(s, null);
    }

    private Base admin(WireHost h, SplittableRandom rnd) {
        int at = (int) SubmissionQueueEntry.OFFSET_DPTR;
        MemorySegment s;
        switch (rnd.nextInt(8)) {
            case 0 -> {
                s = WireHost.sqe(AdminOpcode.IDENTIFY, h.cid());
                SubmissionQueueEntry.nsid(s, rnd.nextInt(3));
                SubmissionQueueEntry.cdw10(s, rnd.nextInt(4));
                SglDescriptor.set(s, at, 0, 4096, SglDescriptor.ID_TCP_TRANSPORT);
                return new Base("Identify", h.capsule(s, null), PduMutator.SQE, false);
            }
            case 1 -> {
                s = WireHost.sqe(AdminOpcode.GET_LOG_PAGE, h.cid());
                int[] lids = {1, 2, 3, 4, 0x70, 0xC0};
                int len = 512 << rnd.nextInt(0, 9);
                SubmissionQueueEntry.nsid(s, -1);
                SubmissionQueueEntry.cdw10(s, lids[rnd.nextInt(lids.length)]);
                SubmissionQueueEntry.logPageLength(s, len);
                SglDescriptor.set(s, at, 0, len, SglDescriptor.ID_TCP_TRANSPORT);
                return new Base("Get Log Page", h.capsule(s, null), PduMutator.SQE, false);
            }
            case 2 -> {
                s = WireHost.sqe(rnd.nextBoolean() ? AdminOpcode.SET_FEATURES : AdminOpcode.GET_FEATURES, h.cid());
                SubmissionQueueEntry.cdw10(s, rnd.nextInt(1, 0x20));
                SubmissionQueueEntry.cdw11(s, rnd.nextInt());
                return new Base("Set/Get Features", h.capsule(s, null), PduMutator.SQE, false);
            }
            case 3 -> {
                // admin data in the capsule: the target must bound the SGL against what arrived
                s = WireHost.sqe(AdminOpcode.SET_FEATURES, h.cid());
                byte[] data = new byte[rnd.nextInt(1, 4097)];
                SubmissionQueueEntry.cdw10(s, 0x0E);
                SglDescriptor.set(s, at, 0, data.length, SglDescriptor.ID_DATA_OFFSET);
                return new Base("admin command with in-capsule data", h.capsule(s, data), PduMutator.SQE, false);
            }
            case 4 -> {
                s = WireHost.sqe(FabricsCommand.OPCODE, h.cid());
                FabricsCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_SET);
                PropertySetCommand.ofst(s, 0x14);
                PropertySetCommand.value(s, rnd.nextInt());
                return new Base("Property Set CC", h.capsule(s, null), PduMutator.SQE, false);
            }
            case 5 -> {
                return new Base("Property Get", propertyGet(h, rnd), PduMutator.SQE, false);
            }
            case 6 -> {
                return new Base("Connect on a live admin queue",
                        h.connectCapsule(0, 31, 1000, ConnectData.CNTLID_DYNAMIC, subnqn), PduMutator.SQE, false);
            }
            default -> {
                s = WireHost.sqe(rnd.nextBoolean() ? AdminOpcode.KEEP_ALIVE : AdminOpcode.ASYNC_EVENT, h.cid());
                return new Base("Keep Alive / AER", h.capsule(s, null), PduMutator.SQE, false);
            }
        }
    }

    private static Base io(WireHost h, SplittableRandom rnd) {
        int at = (int) SubmissionQueueEntry.OFFSET_DPTR;
        int blocks = rnd.nextInt(1, 9);
        int opcode = switch (rnd.nextInt(9)) {
            case 0, 1 -> IoOpcode.WRITE;
            case 2 -> IoOpcode.WRITE_ZEROES;
            case 3 -> IoOpcode.FLUSH;
            case 4 -> IoOpcode.DSM;
            case 5 -> rnd.nextInt(256);
            default -> IoOpcode.READ;
        };
        MemorySegment s = WireHost.sqe(opcode, h.cid());
        SubmissionQueueEntry.nsid(s, 1);
        SubmissionQueueEntry.slba(s, rnd.nextInt(0, 1024));
        SubmissionQueueEntry.nlb(s, blocks - 1);
        if (opcode == IoOpcode.WRITE && rnd.nextBoolean()) {
            byte[] data = new byte[blocks * 512];
            SglDescriptor.set(s, at, 0, data.length, SglDescriptor.ID_DATA_OFFSET);
            return new Base("Write in-capsule", h.capsule(s, data), PduMutator.SQE, false);
        }
        if (opcode == IoOpcode.DSM) {
            byte[] ranges = new byte[16 * rnd.nextInt(1, 4)];
            for (int i = 0; i < ranges.length; i++) ranges[i] = (byte) rnd.nextInt(256);
            SubmissionQueueEntry.cdw10(s, ranges.length / 16 - 1);
            SubmissionQueueEntry.cdw11(s, 4);
            SglDescriptor.set(s, at, 0, ranges.length, SglDescriptor.ID_DATA_OFFSET);
            return new Base("Deallocate", h.capsule(s, ranges), PduMutator.SQE, false);
        }
        if (opcode == IoOpcode.WRITE_ZEROES || opcode == IoOpcode.FLUSH) {
            return new Base(opcode == IoOpcode.FLUSH ? "Flush" : "Write Zeroes", h.capsule(s, null), PduMutator.SQE, false);
        }
        if (rnd.nextInt(6) == 0) {
            return new Base("unsolicited H2CData", h2cData(h, SubmissionQueueEntry.cid(s), rnd.nextInt(4), 0, 512, true, rnd),
                    PduMutator.H2C_DATA, false);
        }
        SglDescriptor.set(s, at, 0, blocks * 512L, SglDescriptor.ID_TCP_TRANSPORT);
        boolean write = opcode == IoOpcode.WRITE;
        return new Base(write ? "Write by R2T" : opcode == IoOpcode.READ ? "Read" : "opcode 0x" + Integer.toHexString(opcode),
                h.capsule(s, null), PduMutator.SQE, write);
    }
}
