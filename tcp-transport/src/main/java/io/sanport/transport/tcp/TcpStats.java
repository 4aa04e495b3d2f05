package io.sanport.transport.tcp;

import io.sanport.iop.Reactor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one target's NVMe/TCP connections cost: ring operations and payload bytes. One set of counters per
 * reactor, written only by its thread (plain fields, nothing shared on the data path); the totals are read
 * racily, for tests and stats.
 */
public final class TcpStats {

    /** One reactor's counters. Reactor thread only. */
    static final class Counters {
        long capsules;            // CapsuleCmd PDUs received
        long recvs;               // RECVs posted, staging and direct
        long directRecvs;         // RECVs straight into a request's buffer
        long sends;               // writevs posted
        long payloadBytesCopied;  // PDU data copied from the staging buffer into request buffers
        long payloadBytesDirect;  // PDU data received straight into request buffers
        long acceptFailures;      // accepts that failed for lack of descriptors or socket memory
    }

    private final Map<Reactor, Counters> byReactor = new ConcurrentHashMap<>();

    /** The counters of {@code reactor}'s connections (made on its first connection, not per I/O). */
    Counters counters(Reactor reactor) {
        return byReactor.computeIfAbsent(reactor, r -> new Counters());
    }

    /** CapsuleCmd PDUs received: one per command. */
    public long capsules() {
        return byReactor.values().stream().mapToLong(c -> c.capsules).sum();
    }

    /** RECV ring operations posted. */
    public long recvs() {
        return byReactor.values().stream().mapToLong(c -> c.recvs).sum();
    }

    /** Of {@link #recvs()}, those aimed straight at a request's buffer. */
    public long directRecvs() {
        return byReactor.values().stream().mapToLong(c -> c.directRecvs).sum();
    }

    /** writev ring operations posted (one may carry several responses). */
    public long sends() {
        return byReactor.values().stream().mapToLong(c -> c.sends).sum();
    }

    /** PDU data bytes that arrived in the staging buffer and were copied into request buffers. */
    public long payloadBytesCopied() {
        return byReactor.values().stream().mapToLong(c -> c.payloadBytesCopied).sum();
    }

    /** PDU data bytes received straight into request buffers (no copy). */
    public long payloadBytesDirect() {
        return byReactor.values().stream().mapToLong(c -> c.payloadBytesDirect).sum();
    }

    /** Accepts that failed for lack of file descriptors or socket memory (each followed by a back-off). */
    public long acceptFailures() {
        return byReactor.values().stream().mapToLong(c -> c.acceptFailures).sum();
    }

    @Override
    public String toString() {
        return capsules() + " capsules, " + recvs() + " RECVs (" + directRecvs() + " direct), " + sends()
                + " writevs, " + payloadBytesCopied() + " payload bytes copied, " + payloadBytesDirect() + " direct";
    }
}
