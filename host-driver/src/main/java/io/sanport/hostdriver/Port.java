package io.sanport.hostdriver;

import io.sanport.nvme.AnaState;
import java.util.ArrayList;
import java.util.List;

/**
 * A listening address (nvmet's port): transport, address family, address and service id, and the subsystems
 * reachable through it. The well-known discovery subsystem is reachable through every port.
 */
public final class Port {
    private final int portId;
    private final RemoteTransport transport;
    private final String adrfam;
    private final String traddr;
    private final String trsvcid;
    private volatile List<Subsystem> subsystems; // replaced whole by the control path
    private final boolean implicit;
    private final TargetConfig.PortTls tls;
    private volatile RemoteTransport.Listener listener;
    // by grpid (0 unused); null: a group this port was not told of, inaccessible here as in nvmet. Replaced whole.
    private volatile AnaGroup[] ana = new AnaGroup[AnaGroup.MAX_GRPID + 1];
    private volatile List<TargetConfig.ReferralConfig> referrals = List.of();
    private volatile boolean removed; // no longer listening, taken out of the target (its stats slot may be reused)
    int statsSlot = -1; // where reactors count its queues and I/O ({@link TargetStats}); -1: not counted

    Port(int portId, RemoteTransport transport, String adrfam, String traddr, String trsvcid, List<Subsystem> subsystems) {
        this(portId, transport, adrfam, traddr, trsvcid, subsystems, false);
    }

    Port(int portId, RemoteTransport transport, String adrfam, String traddr, String trsvcid, List<Subsystem> subsystems,
         boolean implicit) {
        this(portId, transport, adrfam, traddr, trsvcid, subsystems, implicit, TargetConfig.PortTls.NONE);
    }

    Port(int portId, RemoteTransport transport, String adrfam, String traddr, String trsvcid, List<Subsystem> subsystems,
         boolean implicit, TargetConfig.PortTls tls) {
        this.implicit = implicit;
        this.tls = tls;
        this.portId = portId;
        this.transport = transport;
        this.adrfam = adrfam;
        this.traddr = traddr;
        this.trsvcid = trsvcid;
        this.subsystems = List.copyOf(subsystems);
        this.ana[AnaGroup.DEFAULT_GRPID] = new AnaGroup(AnaGroup.DEFAULT_GRPID, AnaState.OPTIMIZED, 0);
    }

    public int portId() { return portId; }
    /** Whether connections here start with a TLS 1.3 handshake: never, when the host does, or always. */
    public TargetConfig.PortTls tls() { return tls; }
    public RemoteTransport transport() { return transport; }
    public String adrfam() { return adrfam; }
    public String traddr() { return traddr; }
    /** The configured service id ("4420", or "0" for an ephemeral port). */
    public String trsvcid() { return trsvcid; }
    public List<Subsystem> subsystems() { return subsystems; }

    /** The port really bound: the configured one, or the ephemeral one the kernel chose for "0". */
    public int boundPort() {
        RemoteTransport.Listener l = listener;
        return l != null ? l.boundPort() : Integer.parseInt(trsvcid);
    }

    boolean removed() { return removed; }
    void remove() { removed = true; }

    /** Whether TRADDR is a wildcard: the discovery log then reports the address the host reached. */
    public boolean wildcard() {
        return traddr.equals("0.0.0.0") || traddr.equals("::");
    }

    public boolean exports(Subsystem s) {
        return subsystems.contains(s);
    }

    /** A discovery port sanport added itself (--discovery-port), not one of the configuration's. */
    public boolean implicit() { return implicit; }

    /** Exports {@code s} too (or no longer): the next Connect sees it; the caller handles the controllers. */
    synchronized void export(Subsystem s, boolean exported) {
        List<Subsystem> next = new java.util.ArrayList<>(subsystems);
        next.remove(s);
        if (exported) next.add(s);
        subsystems = List.copyOf(next);
    }

    /**
     * The ANA state of group {@code grpid} through this port; the I/O path asks it for every command (no
     * allocation). A group the port was not configured with is inaccessible (nvmet's default for groups but 1).
     */
    public AnaState anaState(int grpid) {
        AnaGroup g = ana[grpid];
        return g != null ? g.state() : AnaState.INACCESSIBLE;
    }

    /** The group {@code grpid} as configured on this port, or null. */
    public AnaGroup anaGroup(int grpid) {
        return grpid > 0 && grpid <= AnaGroup.MAX_GRPID ? ana[grpid] : null;
    }

    /** The groups configured on this port, by grpid. */
    public List<AnaGroup> anaGroups() {
        List<AnaGroup> list = new ArrayList<>();
        for (AnaGroup g : ana) {
            if (g != null) list.add(g);
        }
        return list;
    }

    /** Sets group {@code grpid}'s state here; false if it was in that state already. */
    synchronized boolean anaState(int grpid, AnaState state, long chgcnt) {
        AnaGroup was = ana[grpid];
        if (was != null && was.state() == state) {
            return false;
        }
        AnaGroup[] next = ana.clone();
        next[grpid] = new AnaGroup(grpid, state, chgcnt);
        ana = next;
        return true;
    }

    /** The discovery controllers of other targets this port's discovery log lists. */
    public List<TargetConfig.ReferralConfig> referrals() { return referrals; }

    void referrals(List<TargetConfig.ReferralConfig> r) { referrals = List.copyOf(r); }

    void listener(RemoteTransport.Listener l) { listener = l; }
    RemoteTransport.Listener listener() { return listener; }

    @Override
    public String toString() {
        return "port " + portId + " (" + transport.type() + " " + traddr + ":" + boundPort() + ")";
    }
}
