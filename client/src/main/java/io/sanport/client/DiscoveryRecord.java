package io.sanport.client;

import io.sanport.nvme.fabrics.DiscoveryLogEntry;
import java.lang.foreign.MemorySegment;

/** One discovery log page entry (NVMe-oF 1.1 §5.3), decoded. */
public record DiscoveryRecord(int trtype, int adrfam, int subtype, int treq, int portid, int cntlid, int asqsz,
                              int eflags, String trsvcid, String subnqn, String traddr) {

    static DiscoveryRecord of(MemorySegment e) {
        return new DiscoveryRecord(DiscoveryLogEntry.trtype(e), DiscoveryLogEntry.adrfam(e), DiscoveryLogEntry.subtype(e),
                DiscoveryLogEntry.treq(e), DiscoveryLogEntry.portid(e), DiscoveryLogEntry.cntlid(e),
                DiscoveryLogEntry.asqsz(e), DiscoveryLogEntry.eflags(e), DiscoveryLogEntry.trsvcid(e),
                DiscoveryLogEntry.subnqn(e), DiscoveryLogEntry.traddr(e));
    }

    public boolean isTcp() { return trtype == DiscoveryLogEntry.TRTYPE_TCP; }
    public boolean isRdma() { return trtype == DiscoveryLogEntry.TRTYPE_RDMA; }
    /** An NVM subsystem (not a referral or the discovery subsystem itself). */
    public boolean isSubsystem() { return subtype == DiscoveryLogEntry.SUBTYPE_NVME; }

    /** nvme-cli's "discover" layout, one line. */
    @Override
    public String toString() {
        String type = switch (trtype) {
            case DiscoveryLogEntry.TRTYPE_RDMA -> "rdma";
            case DiscoveryLogEntry.TRTYPE_TCP -> "tcp";
            case DiscoveryLogEntry.TRTYPE_FC -> "fc";
            case DiscoveryLogEntry.TRTYPE_LOOP -> "loop";
            default -> "trtype " + trtype;
        };
        String sub = switch (subtype) {
            case DiscoveryLogEntry.SUBTYPE_REFERRAL -> "referral";
            case DiscoveryLogEntry.SUBTYPE_NVME -> "nvme subsystem";
            case DiscoveryLogEntry.SUBTYPE_CURRENT_DISCOVERY -> "current discovery subsystem";
            default -> "subtype " + subtype;
        };
        return "trtype=" + type + " adrfam=" + adrfam + " subtype=" + sub + " treq=0x" + Integer.toHexString(treq)
                + " portid=" + portid + " trsvcid=" + trsvcid + " subnqn=" + subnqn + " traddr=" + traddr
                + " cntlid=0x" + Integer.toHexString(cntlid) + " asqsz=" + asqsz + " eflags=0x" + Integer.toHexString(eflags);
    }
}
