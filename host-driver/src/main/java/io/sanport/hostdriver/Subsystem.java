package io.sanport.hostdriver;

import io.sanport.nvme.Nqn;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * An NVM subsystem (or the discovery subsystem): its identity, who may connect, its namespaces and the
 * controllers hosts have created in it (dynamic controller model). Namespaces can be added, removed, disabled
 * and enabled again while hosts are connected, which they learn through an AER (Namespace Attribute Changed)
 * and the Changed Namespace List. The namespace map is copy-on-write: the I/O path reads a volatile immutable
 * map without a lock; the control path replaces it. The host access list is checked at Connect only, as nvmet
 * does: removing a host from it does not end that host's controllers.
 */
public final class Subsystem {
    /** CNTLIDs 1..0xFFEF; above are reserved (0xFFFF = dynamic in Connect). */
    public static final int CNTLID_MIN = 1;
    public static final int CNTLID_MAX = 0xFFEF;

    public enum Type { NVM, DISCOVERY }

    private final String nqn;
    private final Type type;
    private final String serial;
    private final String model;
    private volatile boolean allowAnyHost;
    private volatile Set<String> allowedHosts;
    private volatile NavigableMap<Integer, Namespace> namespaces; // replaced whole, under the lock of this
    private volatile Namespace[] byNsid; // the same, as the open table namespace(nsid) reads (lookup())
    private final List<Controller> controllers = new ArrayList<>();
    private final BitSet cntlids = new BitSet();
    private final SecureRandom random = new SecureRandom(); // CNTLIDs a host on the network cannot predict
    private final int cntlidMin;
    private final int cntlidMax;

    Subsystem(String nqn, Type type, String serial, String model, boolean allowAnyHost, Set<String> allowedHosts,
              Map<Integer, Namespace> namespaces) {
        this(nqn, type, serial, model, allowAnyHost, allowedHosts, namespaces, CNTLID_MIN, CNTLID_MAX);
    }

    Subsystem(String nqn, Type type, String serial, String model, boolean allowAnyHost, Set<String> allowedHosts,
              Map<Integer, Namespace> namespaces, int cntlidMin, int cntlidMax) {
        if (cntlidMin < CNTLID_MIN || cntlidMax > CNTLID_MAX || cntlidMin > cntlidMax) {
            throw new IllegalArgumentException("controller IDs " + cntlidMin + ".." + cntlidMax + " are not within "
                    + CNTLID_MIN + ".." + CNTLID_MAX);
        }
        this.cntlidMin = cntlidMin;
        this.cntlidMax = cntlidMax;
        this.nqn = Nqn.validate(nqn);
        this.type = type;
        this.serial = serial;
        this.model = model;
        this.allowAnyHost = allowAnyHost;
        this.allowedHosts = Set.copyOf(allowedHosts);
        this.namespaces = byNsid(namespaces);
        this.byNsid = table(this.namespaces);
    }

    private static NavigableMap<Integer, Namespace> byNsid(Map<Integer, Namespace> namespaces) {
        TreeMap<Integer, Namespace> byNsid = new TreeMap<>(Integer::compareUnsigned); // NSIDs are unsigned 32-bit
        byNsid.putAll(namespaces);
        return Collections.unmodifiableNavigableMap(byNsid);
    }

    public String nqn() { return nqn; }
    public Type type() { return type; }
    public boolean isDiscovery() { return type == Type.DISCOVERY; }
    public String serial() { return serial; }
    public String model() { return model; }
    public boolean allowAnyHost() { return allowAnyHost; }
    public Set<String> allowedHosts() { return allowedHosts; }
    /** The controller IDs it gives out (nvmet attr_cntlid_min / attr_cntlid_max). */
    public int cntlidMin() { return cntlidMin; }
    public int cntlidMax() { return cntlidMax; }

    /** Whether {@code hostnqn} may connect (nvmet {@code nvmet_host_allowed}); everyone may discover. */
    public boolean allows(String hostnqn) {
        return type == Type.DISCOVERY || allowAnyHost || allowedHosts.contains(hostnqn);
    }

    /** Lets any host connect, or only the allowed ones; checked at the next Connect. */
    void allowAnyHost(boolean v) { allowAnyHost = v; }

    /** Replaces the allowed host list; checked at the next Connect (nvmet: connected hosts stay). */
    synchronized void allowedHosts(Set<String> hosts) { allowedHosts = Set.copyOf(hosts); }

    /** Every namespace configured, enabled or not, by NSID in unsigned order (a snapshot). */
    public NavigableMap<Integer, Namespace> namespaces() { return namespaces; }

    /** The enabled namespace {@code nsid} (any 32-bit value a host sends), or null. The I/O path: no boxing, no tree. */
    public Namespace namespace(int nsid) {
        Namespace ns = lookup(byNsid, nsid);
        return ns != null && ns.enabled() ? ns : null;
    }

    /**
     * An open-addressing table of the namespaces by NSID, linear probing, at most half full (so a probe for an
     * NSID it lacks always meets an empty slot): its size follows the number of namespaces, never an NSID's value.
     */
    static Namespace[] table(Map<Integer, Namespace> namespaces) {
        int size = Math.max(2, Integer.highestOneBit(Math.max(1, namespaces.size())) << 2);
        Namespace[] t = new Namespace[size];
        for (Namespace ns : namespaces.values()) {
            int i = slot(ns.nsid(), size - 1);
            while (t[i] != null) {
                i = (i + 1) & (size - 1);
            }
            t[i] = ns;
        }
        return t;
    }

    static Namespace lookup(Namespace[] t, int nsid) {
        int mask = t.length - 1;
        for (int i = slot(nsid, mask); ; i = (i + 1) & mask) {
            Namespace ns = t[i];
            if (ns == null || ns.nsid() == nsid) {
                return ns;
            }
        }
    }

    private static int slot(int nsid, int mask) {
        int h = nsid * 0x9E3779B9; // Fibonacci hashing: NSIDs 1, 2, 3... spread; int overflow wraps, as meant
        return (h ^ h >>> 16) & mask;
    }

    /** Identify NN: the highest NSID configured. */
    public int maxNsid() {
        return namespaces.isEmpty() ? 0 : namespaces.lastKey();
    }

    /**
     * Enables or disables a namespace and tells every controller, which completes an AER with "namespace
     * attribute changed" when the host enabled that event (nvmet {@code nvmet_ns_changed}).
     */
    public void setNamespaceEnabled(int nsid, boolean enabled) {
        Namespace ns = namespaces.get(nsid);
        if (ns == null) {
            throw new IllegalArgumentException(nqn + " has no namespace " + Integer.toUnsignedString(nsid));
        }
        if (ns.enabled() == enabled) {
            return;
        }
        ns.enabled(enabled);
        for (Controller c : controllers()) {
            c.namespaceChanged(nsid);
        }
    }

    /**
     * Adds a namespace and tells every controller (Namespace Attribute Changed, Changed Namespace List, as nvmet
     * {@code nvmet_ns_enable}); Identify sees it at once.
     */
    void addNamespace(Namespace ns) {
        synchronized (this) {
            if (namespaces.containsKey(ns.nsid())) {
                throw new IllegalArgumentException(nqn + " already has namespace " + Integer.toUnsignedString(ns.nsid()));
            }
            TreeMap<Integer, Namespace> next = new TreeMap<>(namespaces);
            next.put(ns.nsid(), ns);
            namespaces = Collections.unmodifiableNavigableMap(next);
            byNsid = table(next);
        }
        for (Controller c : controllers()) {
            c.namespaceChanged(ns.nsid());
        }
    }

    /**
     * Takes a namespace out: new commands for it get Invalid Namespace from now on (and the namespace's device
     * index is gone, so a command that passed its checks before fails at the reactor), every controller hears
     * of it. The device stays open: the caller drains and closes it.
     */
    Namespace removeNamespace(int nsid) {
        Namespace ns;
        synchronized (this) {
            ns = namespaces.get(nsid);
            if (ns == null) {
                throw new IllegalArgumentException(nqn + " has no namespace " + Integer.toUnsignedString(nsid));
            }
            TreeMap<Integer, Namespace> next = new TreeMap<>(namespaces);
            next.remove(nsid);
            namespaces = Collections.unmodifiableNavigableMap(next);
            byNsid = table(next);
            ns.remove();
        }
        for (Controller c : controllers()) {
            c.namespaceChanged(nsid);
        }
        return ns;
    }

    public synchronized List<Controller> controllers() {
        return List.copyOf(controllers);
    }

    /**
     * Allocates a free CNTLID in cntlid_min..cntlid_max from a random place, wrapping: a host cannot guess another
     * host's controller from its own, and an ID just freed is rarely handed out again at once. -1 when all are
     * taken.
     */
    synchronized int add(java.util.function.IntFunction<Controller> create) {
        int id = cntlids.nextClearBit(cntlidMin + random.nextInt(cntlidMax - cntlidMin + 1));
        if (id > cntlidMax) {
            id = cntlids.nextClearBit(cntlidMin);
            if (id > cntlidMax) {
                return -1;
            }
        }
        cntlids.set(id);
        controllers.add(create.apply(id));
        return id;
    }

    synchronized void remove(Controller c) {
        if (controllers.remove(c)) {
            cntlids.clear(c.cntlid());
        }
    }

    /** The live controller {@code cntlid}, for an I/O queue Connect (which then checks its host); null if none. */
    synchronized Controller find(int cntlid) {
        for (Controller c : controllers) {
            if (c.cntlid() == cntlid && !c.dead()) {
                return c;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return nqn;
    }
}
