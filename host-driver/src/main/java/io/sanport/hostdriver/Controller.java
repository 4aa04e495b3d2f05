package io.sanport.hostdriver;

import io.sanport.nvme.AsyncEvent;
import io.sanport.nvme.IdentifyController;
import io.sanport.nvme.Status;
import io.sanport.nvme.fabrics.Property;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;

/**
 * A controller of the dynamic model: created by an admin-queue Connect with CNTLID FFFFh, joined by I/O-queue
 * Connects that name its CNTLID, torn down when its admin queue goes, when its keep-alive timer expires or when
 * the target shuts down (nvmet {@code struct nvmet_ctrl}). Its queues live on different reactors: the control
 * state is guarded by its monitor or volatile, the AER slots belong to the admin queue's reactor, and the SMART
 * counters are adders every reactor bumps.
 */
public final class Controller {
    private static final System.Logger LOG = System.getLogger("sanport.target");

    /** CAP.MQES, 0-based: the largest I/O queue a host may create (nvmet: 1023). */
    public static final int MQES = 1023;
    /** Admin queue entries (nvmet NVMET_AQ_DEPTH); the discovery log's ASQSZ. */
    public static final int ADMIN_QUEUE_DEPTH = 32;
    /** I/O queues granted by Set Features Number of Queues, whatever the host asks (as nvmet). */
    public static final int MAX_IO_QUEUES = 128;
    /** Identify KAS: keep-alive granularity in 100 ms units. */
    public static final int KAS = 10;
    /** Identify AERL + 1. */
    public static final int AER_LIMIT = 4;
    /** Identify ELPE + 1. */
    public static final int ERROR_LOG_ENTRIES = 64;
    /** CAP: MQES, TO 15 (7.5 s), CSS NVM only, MPSMIN 0, MPSMAX 0. */
    public static final long CAP = MQES | 15L << Property.CAP_TO_SHIFT | Property.CAP_CSS_NVM;
    public static final int VS = Property.VS_1_3;

    private final Target target;
    private final Subsystem subsystem;
    private final int cntlid;
    private final String hostnqn;
    private final UUID hostid;
    private final Port port;
    private final String peer; // the admin queue's host end: every line about this controller names it
    private final QueuePair[] queues = new QueuePair[MAX_IO_QUEUES + 1];
    // buffers this controller's requests hold for data its host has still to send, per reactor context (each
    // element touched only by that reactor's thread): the per-controller host-paced cap
    final int[] hostPaced;
    private volatile long katoMs;
    private volatile long lastActivity = System.nanoTime();
    private volatile int cc;
    private volatile int csts;
    private volatile int aec;
    private volatile boolean dead;
    private volatile TargetConfig.DhchapConfig dhchap; // its host's DH-HMAC-CHAP settings at Connect; null: no authentication
    private volatile String deathCause;

    // admin queue reactor only
    private final Request[] aers = new Request[AER_LIMIT];
    private int aerCount;
    private List<Namespace> shutdownFlushes; // what CC.SHN flushes, one at a time through the Property Set request
    private boolean shutdownFailed;

    // guarded by this
    private final ArrayDeque<Integer> events = new ArrayDeque<>();
    private final TreeSet<Integer> changedNamespaces = new TreeSet<>(Integer::compareUnsigned);
    private boolean namespaceEventMasked;
    private boolean anaEventMasked; // until the host reads the ANA log without RAE (nvmet clears the AEN bit then)
    private final List<long[]> errorLog = new ArrayList<>();
    private long errorCount;

    // SMART / Health and `sanport status`: successful reads and writes and their bytes, one row per reactor
    // (ioRows[ReactorContext.index]) written with plain stores by that reactor's thread only, as TargetStats' counters
    // are (no atomics on the I/O path); a reader adds the rows up with opaque loads
    private static final int READS = 0, WRITES = 1, BYTES_READ = 2, BYTES_WRITTEN = 3, IO_ROW = 8; // 64-byte rows
    private final long[][] ioRows;
    final LongAdder mediaErrors = new LongAdder(); // only on errors

    Controller(Target target, Subsystem subsystem, int cntlid, String hostnqn, UUID hostid, Port port, String peer,
               long katoMs) {
        this.target = target;
        this.hostPaced = new int[target.reactorCount()];
        this.ioRows = new long[target.reactorCount()][IO_ROW];
        this.subsystem = subsystem;
        this.cntlid = cntlid;
        this.hostnqn = hostnqn;
        this.hostid = hostid;
        this.port = port;
        this.peer = peer;
        this.katoMs = katoMs;
    }

    public Subsystem subsystem() { return subsystem; }
    Target target() { return target; }
    public int cntlid() { return cntlid; }
    public String hostnqn() { return hostnqn; }
    public UUID hostid() { return hostid; }
    public Port port() { return port; }
    /** The host's end of the admin queue (address:port over TCP). */
    public String peer() { return peer; }
    public boolean isDiscovery() { return subsystem.isDiscovery(); }
    public long katoMs() { return katoMs; }
    void katoMs(long v) { katoMs = v; }
    public int cc() { return cc; }
    public int csts() { return csts; }
    public int aec() { return aec; }
    void aec(int v) { aec = v; }
    public boolean dead() { return dead; }
    /** The DH-HMAC-CHAP settings its queues authenticate with; null when they need not. */
    TargetConfig.DhchapConfig dhchap() { return dhchap; }
    void dhchap(TargetConfig.DhchapConfig v) { dhchap = v; }
    /** Why the controller was torn down, or null while it lives. */
    public String deathCause() { return deathCause; }
    public boolean ready() { return (csts & Property.CSTS_RDY) != 0; }
    public long readCommands() { return ioSum(READS); }
    public long writeCommands() { return ioSum(WRITES); }
    public long bytesRead() { return ioSum(BYTES_READ); }
    public long bytesWritten() { return ioSum(BYTES_WRITTEN); }

    /** Counts a successful read or write of {@code r} on reactor {@code reactor}: that reactor's thread only. */
    void ioDone(int reactor, Request r, boolean write) {
        long[] row = ioRows[reactor];
        row[write ? WRITES : READS]++;
        row[write ? BYTES_WRITTEN : BYTES_READ] += r.dataLength;
    }

    private long ioSum(int what) {
        long sum = 0;
        for (long[] row : ioRows) {
            sum += (long) IoCounters.SLOT.getOpaque(row, what);
        }
        return sum;
    }

    /** The OAES this controller reports, and the AEC bits Set Features may enable. */
    int oaes() {
        return isDiscovery() ? IdentifyController.OAES_DISCOVERY_CHANGE
                : IdentifyController.OAES_NS_ATTRIBUTE | IdentifyController.OAES_ANA_CHANGE;
    }

    synchronized QueuePair queue(int qid) {
        return queues[qid];
    }

    /** The queue pairs bound now, admin queue first (a snapshot: the control socket lists them). */
    public synchronized List<QueuePair> queues() {
        List<QueuePair> list = new ArrayList<>();
        for (QueuePair q : queues) {
            if (q != null) list.add(q);
        }
        return list;
    }

    synchronized int queueCount() {
        int n = 0;
        for (QueuePair q : queues) {
            if (q != null) n++;
        }
        return n;
    }

    /** Binds {@code q} as queue {@code qid}; false when that qid is taken (Command Sequence Error). */
    synchronized boolean install(int qid, QueuePair q) {
        if (dead || queues[qid] != null) {
            return false;
        }
        queues[qid] = q;
        return true;
    }

    /**
     * The keep-alive timeout a controller runs with when its host asks for {@code requested} ms (Connect or Set
     * Features KATO), or -1 when refused: an I/O controller may not turn keep-alive off (KATO 0), or a host that
     * went silent would hold its queues and buffers forever; a discovery one asking for none gets the discovery
     * default. Every KATO is bounded by the target's maximum.
     */
    static long boundKato(long requested, boolean discovery, TargetOptions options) {
        if (requested == 0) {
            return discovery ? options.discoveryKatoMillis() : -1;
        }
        return Math.min(requested, options.maxKatoMillis());
    }

    /** Any command on any queue: the keep-alive timer restarts (lenient: the host need not advertise TBKAS). */
    void activity() {
        lastActivity = System.nanoTime();
    }

    /** Called by the target's keep-alive tick; tears the controller down when KATO passed in silence. */
    void checkKeepAlive(long now) {
        long kato = katoMs;
        if (kato > 0 && !dead && now - lastActivity > kato * 1_000_000L) {
            teardown("keep-alive timeout: no command within " + kato + " ms", DisconnectReason.KEEP_ALIVE,
                    System.Logger.Level.WARNING);
        }
    }

    void queueClosed(QueuePair q) {
        boolean admin;
        synchronized (this) {
            int qid = q.qid();
            if (qid < 0 || queues[qid] != q) {
                return;
            }
            queues[qid] = null;
            admin = qid == 0;
        }
        if (admin) {
            aerCount = 0; // the admin queue releases the held AERs itself
            boolean shutDown = (csts & Property.CSTS_SHST_MASK) == Property.CSTS_SHST_COMPLETE;
            teardown(shutDown ? "the host shut the controller down and closed its admin queue"
                    : "the admin queue's connection ended without a shutdown");
        }
    }

    /** Deletes the controller: every queue's transport is told to disconnect (nvmet {@code delete_ctrl}). */
    public void teardown(String cause) {
        teardown(cause, DisconnectReason.CONTROLLER_GONE);
    }

    /** As {@link #teardown(String)}, counting its queues' ends as {@code reason}. */
    public void teardown(String cause, DisconnectReason reason) {
        teardown(cause, reason, System.Logger.Level.INFO);
    }

    private void teardown(String cause, DisconnectReason reason, System.Logger.Level level) {
        List<QueuePair> live = new ArrayList<>();
        synchronized (this) {
            if (dead) {
                return;
            }
            dead = true;
            deathCause = cause;
            for (QueuePair q : queues) {
                if (q != null) live.add(q);
            }
        }
        LOG.log(level, this + ": disconnected (" + cause + ")");
        subsystem.remove(this);
        for (QueuePair q : live) {
            try {
                q.endReason(reason);
                q.disconnect();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, this + ": disconnecting " + q, e); // the others still go
            }
        }
    }

    // ---------------------------------------------------------------- CC / CSTS (admin queue reactor)

    /**
     * Property Set CC, as nvmet's {@code nvmet_update_cc}: enable, disable, shutdown. True when {@code r}
     * completes later, after the shutdown's flushes.
     */
    boolean updateCc(int value, Request r) {
        int old = cc;
        cc = value;
        boolean en = (value & Property.CC_EN) != 0;
        boolean wasEn = (old & Property.CC_EN) != 0;
        if (en && !wasEn) {
            boolean ok = Property.ccIosqes(value) == 6 && Property.ccIocqes(value) == 4 && Property.ccMps(value) == 0
                    && Property.ccAms(value) == 0 && Property.ccCss(value) == Property.CC_CSS_NVM;
            csts = ok ? Property.CSTS_RDY : Property.CSTS_CFS;
        }
        if (!en && wasEn) {
            csts &= ~Property.CSTS_RDY;
            cc = 0;
        }
        int shn = value & Property.CC_SHN_MASK;
        int oldShn = old & Property.CC_SHN_MASK;
        if (shn == 0 && oldShn != 0) {
            csts &= ~Property.CSTS_SHST_MASK;
        }
        if (shn != 0 && oldShn == 0) {
            csts = csts & ~(Property.CSTS_RDY | Property.CSTS_SHST_MASK) | Property.CSTS_SHST_OCCURRING;
            if (shutdownFlushes != null) {
                return false; // SHN cleared and set again while the first shutdown flushes: that one reports
            }
            List<Namespace> nss = new ArrayList<>(subsystem.namespaces().values());
            nss.removeIf(n -> !n.enabled() || n.readOnly() || n.removed());
            shutdownFlushes = nss;
            shutdownFailed = false;
            r.step = 0;
            return nextShutdownFlush(r);
        }
        return false;
    }

    /**
     * Flushes the next namespace through the admin queue's Local Transport, or, after the last, reports the
     * shutdown: complete, or CSTS.CFS when a flush failed (SHST then never says complete, so the host does not
     * take it for a clean shutdown). True while a flush is on its way.
     */
    private boolean nextShutdownFlush(Request r) {
        if (r.step < shutdownFlushes.size() && !r.queue.ending()) {
            Namespace ns = shutdownFlushes.get(r.step++);
            r.ns = ns;
            r.inDevice = true;
            r.queue.local.flush(r, ns);
            return true;
        }
        boolean flushed = r.step > 0;
        boolean cut = r.step < shutdownFlushes.size(); // the admin queue went first: not every namespace was flushed
        shutdownFlushes = null;
        r.ns = null;
        if (shutdownFailed) {
            csts |= Property.CSTS_CFS;
            LOG.log(System.Logger.Level.ERROR, this + ": shutdown flush failed, CSTS.CFS set: the shutdown is not clean");
        } else if (!cut) {
            csts = csts & ~Property.CSTS_SHST_MASK | Property.CSTS_SHST_COMPLETE;
            cc = 0;
        }
        if (flushed) {
            r.queue.complete(r);
        }
        return flushed;
    }

    /** A shutdown flush of {@code r.ns} finished with {@code status} (admin queue reactor). */
    void shutdownFlushed(Request r, int status) {
        r.inDevice = false;
        if (status != Status.SUCCESS && !r.ns.removed()) { // a namespace removed meanwhile was flushed as it went
            shutdownFailed = true;
            Namespace ns = r.ns;
            String what = "the flush at shutdown failed on " + ns.device().name() + " ("
                    + Status.describe(Status.word(status, true)) + ")";
            if (ns.failWrites(what)) {
                LOG.log(System.Logger.Level.ERROR, ns + " of " + subsystem + ": " + what + "; writes acknowledged"
                        + " before it may not be on the device. Refusing writes and flushes to it until the namespace"
                        + " is disabled and enabled again");
            }
        }
        nextShutdownFlush(r);
    }

    // ---------------------------------------------------------------- asynchronous events

    /** Holds an AER until an event; false when AERL + 1 are already held (AER Limit Exceeded). */
    boolean holdAer(Request r) {
        if (aerCount == AER_LIMIT) {
            return false;
        }
        aers[aerCount++] = r;
        r.queue.held(r);
        deliverEvents();
        return true;
    }

    /** A namespace of the subsystem was enabled or disabled (nvmet {@code nvmet_ns_changed}). */
    void namespaceChanged(int nsid) {
        boolean post;
        synchronized (this) {
            if (changedNamespaces.size() < 1024) {
                changedNamespaces.add(nsid);
            }
            post = (aec & IdentifyController.OAES_NS_ATTRIBUTE) != 0 && !namespaceEventMasked;
            if (post) {
                namespaceEventMasked = true;
                events.add(AsyncEvent.NS_CHANGED);
            }
        }
        if (post) {
            kick();
        }
    }

    /**
     * An ANA state of this controller's port changed: the ANA change notice, when the host enabled it and has read
     * the log since the last one (nvmet {@code nvmet_port_send_ana_event}).
     */
    void anaChanged() {
        boolean post;
        synchronized (this) {
            post = (aec & IdentifyController.OAES_ANA_CHANGE) != 0 && !anaEventMasked;
            if (post) {
                anaEventMasked = true;
                events.add(AsyncEvent.ANA_CHANGED);
            }
        }
        if (post) {
            kick();
        }
    }

    /** The host read the ANA log: unless it retained the event, the next change is posted again. */
    synchronized void anaLogRead(boolean retain) {
        if (!retain) {
            anaEventMasked = false;
        }
    }

    /** The discovery log changed; posted to discovery controllers that enabled the event. */
    void discoveryChanged() {
        if ((aec & IdentifyController.OAES_DISCOVERY_CHANGE) == 0) {
            return;
        }
        synchronized (this) {
            events.add(AsyncEvent.DISCOVERY_CHANGED);
        }
        kick();
    }

    private void kick() {
        QueuePair admin = queue(0);
        if (admin == null) {
            return;
        }
        try {
            admin.reactor().execute(this::deliverEvents);
        } catch (RejectedExecutionException closing) {
            // the reactor is shutting down: the host will not see this event
        }
    }

    /** Completes held AERs with pending events; admin queue reactor only. */
    private void deliverEvents() {
        while (aerCount > 0) {
            Integer event;
            synchronized (this) {
                event = events.poll();
            }
            if (event == null) {
                return;
            }
            Request r = aers[--aerCount];
            aers[aerCount] = null;
            r.dw0 = event;
            r.queue.completeHeld(r);
        }
    }

    /** Reads the Changed Namespace List and, unless {@code retain}, clears it and unmasks the event. */
    synchronized int[] changedNamespaces(boolean retain) {
        int[] list = changedNamespaces.stream().mapToInt(Integer::intValue).toArray();
        if (!retain) {
            changedNamespaces.clear();
            namespaceEventMasked = false;
        }
        return list;
    }

    // ---------------------------------------------------------------- error log

    /** Records a failed command for Get Log Page Error Information (most recent first). */
    synchronized void logError(Request r, int qid) {
        errorCount++;
        long lba = r.ns != null ? io.sanport.nvme.SubmissionQueueEntry.slba(r.sqe) : 0;
        int nsid = io.sanport.nvme.SubmissionQueueEntry.nsid(r.sqe);
        if (errorLog.size() == ERROR_LOG_ENTRIES) {
            errorLog.removeLast();
        }
        errorLog.addFirst(new long[] {errorCount, qid, r.cid(), r.statusWord(), r.errorLocation, lba, nsid});
        if (Status.sct(Status.word(r.status)) == Status.SCT_MEDIA) {
            mediaErrors.increment();
        }
    }

    synchronized List<long[]> errors() {
        return List.copyOf(errorLog);
    }

    synchronized long errorCount() {
        return errorCount;
    }

    @Override
    public String toString() {
        return "controller " + cntlid + " of " + hostnqn + " at " + peer + " on " + subsystem;
    }
}
