package io.sanport.transport.rdma;

import io.sanport.hostdriver.ConnectionLimits;
import java.util.HashMap;
import java.util.Map;

/**
 * One target's NVMe/RDMA queue pairs as a whole, over all its RDMA ports: admission of a CM connect request
 * against the {@link ConnectionLimits} caps NVMe/TCP has too, in total and per host address. A queue counts from
 * its admission (before rdma_accept) until its QP is destroyed, established or not, so the caps bound the QPs,
 * CQ entries and request slots the network can hold. Shared by the ports' conductor threads: synchronized, off
 * the data path.
 */
final class RdmaConnections {
    private final ConnectionLimits limits;
    private final Map<String, Integer> byAddress = new HashMap<>();
    private int total;

    /** Holds no reference to the target: it is the value of a weak map keyed by it. */
    RdmaConnections(ConnectionLimits limits) {
        this.limits = limits;
    }

    /** Admits a queue from {@code peer}; null when admitted, else why not (the caller rejects with NO_RSC). */
    synchronized String admit(String peer) {
        if (total >= limits.maxConnections()) {
            return "the target holds its maximum of " + limits.maxConnections() + " NVMe/RDMA queues";
        }
        int n = byAddress.getOrDefault(peer, 0);
        if (n >= limits.maxConnectionsPerHost()) {
            return "that address holds its maximum of " + limits.maxConnectionsPerHost() + " NVMe/RDMA queues";
        }
        byAddress.put(peer, n + 1);
        total++;
        return null;
    }

    /** A queue {@link #admit}ted from {@code peer} is gone (its QP destroyed, or it was never made). */
    synchronized void release(String peer) {
        Integer n = byAddress.get(peer);
        if (n == null) {
            return; // never admitted: nothing to give back
        }
        if (n == 1) {
            byAddress.remove(peer);
        } else {
            byAddress.put(peer, n - 1);
        }
        total--;
    }

    /** Queues admitted now (tests, stats). */
    synchronized int count() {
        return total;
    }

    /** Queues admitted now from {@code peer}. */
    synchronized int count(String peer) {
        return byAddress.getOrDefault(peer, 0);
    }
}
