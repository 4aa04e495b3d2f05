package io.sanport.client;

import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.FeatureId;
import io.sanport.nvme.IdentifyCns;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.IdentifyNamespace;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import static io.sanport.nvme.Wire.U32;

/**
 * A remote NVMe controller reached over NVMe/TCP or NVMe/RDMA ({@link ConnectOptions#transport}): the host side of one association (admin queue + I/O queues),
 * brought up the way the Linux 6.1 host does it (fact sheet §7.1):
 * admin Connect (QID 0, CNTLID FFFFh) → Property Get CAP → Set CC.EN → poll CSTS.RDY → Property Get VS →
 * Identify Controller → Set Features Number of Queues → all I/O transports, then their Connects with the CNTLID.
 * <p>
 * The parts: the admin queue and its {@link ControllerRegisters} (Property Get/Set, enable, shutdown), the
 * {@link IoQueues} that {@link RemoteNamespace}s send I/O over (round-robin), and the {@link KeepAlive} (every
 * KATO/2 on the admin queue; one unanswered after KATO fails the association). {@link #close} is the orderly
 * disconnect: I/O queues closed, CC.SHN = normal, wait for CSTS.SHST = complete, admin queue closed.
 */
public final class RemoteController implements AutoCloseable {
    /** Linux admin queue: 32 entries (SQSIZE 31). */
    public static final int ADMIN_QUEUE_SIZE = 32;

    private final InetSocketAddress address;
    private final String subnqn;
    private final ConnectOptions options;
    private final java.util.concurrent.atomic.AtomicInteger transactions = new java.util.concurrent.atomic.AtomicInteger();
    private final NvmeQueue admin;
    private final ControllerRegisters registers;
    private final IoQueues io;
    private final KeepAlive keepAlive;
    private int cntlid;
    private final MemorySegment identify = Arena.ofAuto().allocate(IdentifyCns.DATA_SIZE, 4096);
    private int ioQueueSize;
    private volatile boolean closed;

    private RemoteController(InetSocketAddress address, String subnqn, ConnectOptions options, NvmeQueue admin) {
        this.address = address;
        this.subnqn = subnqn;
        this.options = options;
        this.admin = admin;
        this.registers = new ControllerRegisters(this, admin, options.timeoutMillis());
        this.io = new IoQueues(this, options.timeoutMillis());
        this.keepAlive = new KeepAlive(this, admin, io, options.katoMillis());
    }

    /** Connects to the I/O (or, with {@code ioQueues} 0, discovery) controller {@code subnqn} at {@code host:port}. */
    public static RemoteController connect(String host, int port, String subnqn, ConnectOptions options) throws IOException {
        Nqn.validate(subnqn);
        InetSocketAddress address = new InetSocketAddress(host, port);
        NvmeQueue admin = openQueue(address, subnqn, 0, ADMIN_QUEUE_SIZE, options);
        RemoteController c = new RemoteController(address, subnqn, options, admin);
        try {
            c.initialize();
            return c;
        } catch (IOException | RuntimeException | Error e) {
            c.abort();
            throw e;
        }
    }

    /** One queue of the chosen transport: a TCP connection, or an RC QP through the RDMA CM. */
    private static NvmeQueue openQueue(InetSocketAddress address, String subnqn, int qid, int size,
                                       ConnectOptions options) throws IOException {
        return switch (options.transport()) {
            case TCP -> NvmeTcpQueue.open(address, qid, size, options.headerDigest(), options.dataDigest(),
                    options.timeoutMillis(), options.tlsKey() == null ? null
                            : new TcpSocket.Tls(options.tlsKey(), options.hostNqn(), subnqn));
            case RDMA -> NvmeRdmaQueue.open(address, qid, size, options.timeoutMillis());
        };
    }

    private void initialize() throws IOException {
        boolean discovery = Nqn.isDiscovery(subnqn);
        cntlid = fabricsConnect(admin, ADMIN_QUEUE_SIZE - 1, options.katoMillis(), ConnectData.CNTLID_DYNAMIC);
        registers.enable();

        adminExecute("Identify Controller", sqe -> {
            SubmissionQueueEntry.opcode(sqe, AdminOpcode.IDENTIFY);
            SubmissionQueueEntry.cdw10(sqe, IdentifyCns.CTRL);
        }, identify, false);
        if (IdentifyController.cntlid(identify) != cntlid) {
            throw new IOException(this + ": Identify CNTLID " + IdentifyController.cntlid(identify)
                    + " does not match the Connect's " + cntlid);
        }
        if (discovery) {
            startKeepAlive();
            return;
        }
        if (IdentifyController.icdoff(identify) != 0) {
            throw new IOException(this + ": ICDOFF " + IdentifyController.icdoff(identify) + " is not supported");
        }
        if ((IdentifyController.sgls(identify) & 0x3) == 0) {
            throw new IOException(this + ": the controller reports no SGL support (SGLS 0x"
                    + Integer.toHexString(IdentifyController.sgls(identify)) + "), which NVMe/TCP requires");
        }
        if (options.transport() == ConnectOptions.Transport.RDMA && (IdentifyController.sgls(identify) & 0x4) == 0) {
            throw new IOException(this + ": the controller reports no Keyed SGL Data Block support (SGLS 0x"
                    + Integer.toHexString(IdentifyController.sgls(identify)) + "), which NVMe/RDMA requires");
        }
        int wanted = options.ioQueues();
        if (wanted > 0) {
            int granted = (int) adminExecute("Set Features Number of Queues", sqe -> {
                SubmissionQueueEntry.opcode(sqe, AdminOpcode.SET_FEATURES);
                SubmissionQueueEntry.cdw10(sqe, FeatureId.NUM_QUEUES);
                SubmissionQueueEntry.cdw11(sqe, FeatureId.numQueues(wanted - 1, wanted - 1));
            }, null, false);
            int count = Math.min(wanted, Math.min(granted & 0xFFFF, granted >>> 16) + 1);
            int maxcmd = IdentifyController.maxcmd(identify);
            ioQueueSize = Math.min(options.queueSize(), Property.capMqes(registers.cap()) + 1);
            if (maxcmd > 0) {
                ioQueueSize = Math.min(ioQueueSize, maxcmd);
            }
            long inCapsule = IdentifyController.ioccsz(identify) * 16 - SubmissionQueueEntry.SIZE;
            // all transports first, then the Connects, as the Linux host does
            for (int qid = 1; qid <= count; qid++) {
                NvmeQueue q = openQueue(address, subnqn, qid, ioQueueSize, options);
                io.add(q);
            }
            for (NvmeQueue q : io.queues()) {
                fabricsConnect(q, ioQueueSize - 1, 0, cntlid);
                q.inCapsuleMax(Math.max(0, inCapsule));
            }
        }
        startKeepAlive();
    }

    private int fabricsConnect(NvmeQueue q, int sqsize, int kato, int wantCntlid) throws IOException {
        MemorySegment data = Arena.ofAuto().allocate(ConnectData.SIZE, 8);
        ConnectData.hostUuid(data, options.hostId());
        ConnectData.cntlid(data, wantCntlid);
        ConnectData.subnqn(data, subnqn);
        ConnectData.hostnqn(data, options.hostNqn());
        long dw0 = q.execute("Connect (qid " + q.qid() + ")", sqe -> {
            FabricsCommand.opcode(sqe, FabricsCommand.OPCODE);
            FabricsCommand.fctype(sqe, FabricsCommand.FCTYPE_CONNECT);
            ConnectCommand.recfmt(sqe, ConnectCommand.RECFMT_0);
            ConnectCommand.qid(sqe, q.qid());
            ConnectCommand.sqsize(sqe, sqsize);
            ConnectCommand.kato(sqe, kato);
            // as the Linux host with disable_sqflow: admin and I/O queues alike
            ConnectCommand.cattr(sqe, options.disableSqFlow() ? ConnectCommand.CATTR_DISABLE_SQFLOW : 0);
        }, data, true, options.timeoutMillis());
        if ((dw0 & ConnectCommand.AUTHREQ_ASCR) != 0) {
            throw new IOException(this + ": the controller requires a secure channel (DH-HMAC-CHAP with TLS "
                    + "concatenation), which this host does not implement");
        }
        if ((dw0 & ConnectCommand.AUTHREQ_ATR) != 0) {
            if (options.dhchapSecret() == null) {
                throw new IOException(this + ": the controller requires in-band authentication (DH-HMAC-CHAP); "
                        + "give the host's secret (--dhchap-secret)");
            }
            authenticate(q);
        }
        return (int) dw0 & 0xFFFF;
    }

    /** One DH-HMAC-CHAP transaction on {@code q}; returns "hash/group" as negotiated. */
    private String authenticate(NvmeQueue q) throws IOException {
        int tid = transactions.getAndIncrement() & 0xFFFF;
        try {
            return DhchapHost.authenticate(q, tid, options.hostNqn(), subnqn, options.dhchapSecret(),
                    options.dhchapCtrlSecret(), options.timeoutMillis());
        } catch (DhchapHost.DhchapException e) {
            throw new IOException(this + " queue " + q.qid() + ": DH-HMAC-CHAP authentication failed: " + e.getMessage(), e);
        }
    }

    /**
     * Authenticates the admin queue again (the host's re-authentication, {@code nvme connect}'s sysfs
     * {@code dhchap_secret} write); returns the negotiated "hash/group". Needs {@link ConnectOptions#dhchapSecret}.
     */
    public String reauthenticate() throws IOException {
        if (options.dhchapSecret() == null) {
            throw new IllegalStateException("no DH-HMAC-CHAP secret in the options");
        }
        return authenticate(admin);
    }

    private void startKeepAlive() {
        keepAlive.start("nvme-keepalive-" + address.getHostString() + "-c" + cntlid);
    }

    // ---- admin commands ----

    /** Property Get (fabrics); {@code eightBytes} for CAP. */
    public long propertyGet(int offset, boolean eightBytes) throws IOException {
        return registers.get(offset, eightBytes);
    }

    /** Property Set of a 4-byte property (only CC is writable). */
    public void propertySet(int offset, int value) throws IOException {
        registers.set(offset, value);
    }

    /** Identify (4096 bytes) into a new buffer. */
    public MemorySegment identify(int cns, int nsid) throws IOException {
        MemorySegment data = Arena.ofAuto().allocate(IdentifyCns.DATA_SIZE, 4096);
        adminExecute("Identify CNS 0x" + Integer.toHexString(cns) + " NSID " + Integer.toUnsignedString(nsid), sqe -> {
            SubmissionQueueEntry.opcode(sqe, AdminOpcode.IDENTIFY);
            SubmissionQueueEntry.nsid(sqe, nsid);
            SubmissionQueueEntry.cdw10(sqe, cns);
        }, data, false);
        return data;
    }

    /** Get Log Page of {@code length} bytes (a dword multiple) from byte {@code offset}. */
    public MemorySegment getLogPage(int lid, int nsid, long offset, long length) throws IOException {
        if (length <= 0 || length % 4 != 0 || offset % 4 != 0) {
            throw new IllegalArgumentException("log page length and offset must be dword multiples: " + length + "@" + offset);
        }
        MemorySegment data = Arena.ofAuto().allocate(length, 4096);
        adminExecute("Get Log Page 0x" + Integer.toHexString(lid), sqe -> {
            SubmissionQueueEntry.opcode(sqe, AdminOpcode.GET_LOG_PAGE);
            SubmissionQueueEntry.nsid(sqe, nsid);
            SubmissionQueueEntry.cdw10(sqe, lid);
            SubmissionQueueEntry.logPageLength(sqe, length);
            SubmissionQueueEntry.cdw12(sqe, (int) offset);
            SubmissionQueueEntry.cdw13(sqe, (int) (offset >>> 32));
        }, data, false);
        return data;
    }

    /** Active namespace IDs (Identify CNS 02h), ascending. */
    public List<Integer> activeNamespaceIds() throws IOException {
        List<Integer> ids = new ArrayList<>();
        int after = 0;
        while (true) {
            MemorySegment list = identify(IdentifyCns.NS_ACTIVE_LIST, after);
            int n = 0;
            for (; n < 1024; n++) {
                int id = list.get(U32, n * 4L);
                if (id == 0) {
                    break;
                }
                ids.add(id);
                after = id;
            }
            if (n < 1024) {
                return ids;
            }
        }
    }

    /** Identify Namespace (CNS 00h) as a handle for I/O. */
    public RemoteNamespace namespace(int nsid) throws IOException {
        MemorySegment id = identify(IdentifyCns.NS, nsid);
        if (IdentifyNamespace.ncap(id) == 0) {
            throw new IOException(this + ": namespace " + nsid + " is not active (NCAP 0)");
        }
        return new RemoteNamespace(this, nsid, id);
    }

    /** Every active namespace. */
    public List<RemoteNamespace> namespaces() throws IOException {
        List<RemoteNamespace> all = new ArrayList<>();
        for (int nsid : activeNamespaceIds()) {
            all.add(namespace(nsid));
        }
        return all;
    }

    long adminExecute(String name, Consumer<MemorySegment> fill, MemorySegment data, boolean toController) throws IOException {
        return admin.execute(name, fill, data, toController, options.timeoutMillis());
    }

    /** The I/O queues, for {@link RemoteNamespace}. */
    IoQueues io() {
        return io;
    }

    /** A CompletableFuture completion: NvmeException for a status, the transport failure as is. */
    static IoCallback future(String name, CompletableFuture<Void> f) {
        return (status, result, failure) -> {
            if (failure != null) {
                f.completeExceptionally(failure);
            } else if (!Status.isSuccess(status)) {
                f.completeExceptionally(new NvmeException(name, status, (int) result));
            } else {
                f.complete(null);
            }
        };
    }

    // ---- identity ----

    public int cntlid() { return cntlid; }
    public long cap() { return registers.cap(); }
    public int version() { return registers.version(); }
    /** A copy-free view of the Identify Controller data read at connect. */
    public MemorySegment identifyData() { return identify.asReadOnly(); }
    /** The SUBNQN the controller reports (Identify offset 768). */
    public String reportedSubnqn() { return IdentifyController.subnqn(identify); }
    public String subnqn() { return subnqn; }
    public String serial() { return IdentifyController.sn(identify); }
    public String model() { return IdentifyController.mn(identify); }
    public String firmware() { return IdentifyController.fr(identify); }
    public int ioQueueCount() { return io.count(); }
    public int ioQueueSize() { return ioQueueSize; }
    public int oncs() { return IdentifyController.oncs(identify); }
    /**
     * C2HData payload bytes the queues copied out of their staging buffers; the rest of the read data went from
     * the socket straight into the callers' buffers.
     */
    public long payloadBytesCopied() {
        return admin.payloadBytesCopied() + io.payloadBytesCopied();
    }

    public boolean volatileWriteCache() { return (IdentifyController.vwc(identify) & IdentifyController.VWC_PRESENT) != 0; }

    /**
     * Largest data transfer of one command: 2^MDTS x 4 KiB (CAP.MPSMIN is 0). MDTS 0 ("no limit", what nvmet-tcp
     * reports) gives {@link #UNLIMITED_MDTS_TRANSFER}, the Linux TCP host's own cap: nvmet-tcp 6.1 fails an 8 MiB
     * write with SGL Data Block Length Invalid although it reports no limit.
     */
    public long maxTransferBytes() {
        int mdts = IdentifyController.mdts(identify);
        return mdts == 0 ? UNLIMITED_MDTS_TRANSFER : 4096L << mdts;
    }

    /** Linux {@code NVME_TCP_MAX_SEGMENTS} (256) x 4 KiB pages. */
    public static final long UNLIMITED_MDTS_TRANSFER = 1L << 20;

    /** Bytes of write data that travel inside the capsule on I/O queues (IOCCSZ x 16 - 64). */
    public long inCapsuleDataSize() {
        return Math.max(0, IdentifyController.ioccsz(identify) * 16 - SubmissionQueueEntry.SIZE);
    }

    // ---- teardown ----

    /**
     * Orderly disconnect (fact sheet §7.3): I/O queues closed, Property Set CC.SHN = normal, CSTS.SHST polled
     * until complete, admin queue closed. A controller that is already unreachable is just closed.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        keepAlive.stop();
        io.close();
        IOException failed = null;
        if (!admin.isFailed()) {
            try {
                registers.shutdown();
            } catch (IOException e) {
                failed = e;
            }
        }
        admin.close();
        if (failed != null) {
            throw failed;
        }
    }

    /** Closes every connection without the shutdown handshake (error path). */
    private void abort() {
        closed = true;
        keepAlive.stop();
        io.close();
        admin.close();
    }

    @Override
    public String toString() {
        return "controller " + cntlid + " of " + subnqn + " at " + address.getHostString() + ":" + address.getPort();
    }
}
