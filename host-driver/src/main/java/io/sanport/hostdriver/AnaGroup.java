package io.sanport.hostdriver;

import io.sanport.nvme.AnaState;

/**
 * An ANA group as one port sees it (nvmet {@code port->ana_state[grpid]}): its state there and the ANA log change
 * count when that state last changed (the group descriptor's CHGCNT). Immutable: a port replaces it whole.
 */
public record AnaGroup(int grpid, AnaState state, long chgcnt) {
    /** The group every namespace is in unless its config names another (nvmet NVMET_DEFAULT_ANA_GRPID). */
    public static final int DEFAULT_GRPID = 1;
    /** Identify ANAGRPMAX and NANAGRPID (nvmet NVMET_MAX_ANAGRPS). */
    public static final int MAX_GRPID = 128;
}
