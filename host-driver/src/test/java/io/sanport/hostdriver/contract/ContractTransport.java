package io.sanport.hostdriver.contract;

import io.sanport.hostdriver.Target;
import io.sanport.nvme.Status;
import java.lang.foreign.MemorySegment;

/**
 * What a transport gives {@link TransportContract}: a running target exporting the contract's subsystem, and
 * host-side connections to it that move 64-byte SQEs, data and completions in this transport's framing. A new
 * transport implements this (usually over its own test host) and subclasses {@link TransportContract}.
 *
 * <p>The target must follow {@link #CONFIG}: one reactor with 32 pool buffers of 128 KiB (MDTS 128 KiB), the
 * subsystem {@link #subsystemNqn()} open to any host, namespace 1 a 16 MiB RAM device with 512-byte blocks.
 */
public interface ContractTransport extends AutoCloseable {

    /** The target's shape, as a sanport config: trtype, subsystem NQN, subsystem NQN, trsvcid. */
    String CONFIG = """
        { "ports": [ { "portid": 1, "addr": { "trtype": "%s", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "%s" },
                       "subsystems": [ "%s" ] } ],
          "subsystems": [ { "nqn": "%s", "attr": { "allow_any_host": "1", "serial": "SANPORTCONTRACT" },
                            "namespaces": [ { "nsid": 1, "enable": 1, "device": { "path": "ram:16M" } } ] } ] }
        """;
    String NQN = "nqn.2024-01.io.sanport:contract";
    String HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5";

    /** The config {@link #CONFIG} describes, for a port of {@code trtype} on {@code trsvcid}. */
    static String config(String trtype, String trsvcid) {
        return CONFIG.formatted(trtype, trsvcid, NQN, NQN);
    }

    /** The running target (the contract reads MDTS, the port's transport and buffer waits from it). */
    Target target();

    default String subsystemNqn() { return NQN; }
    default String hostNqn() { return HOSTNQN; }

    /**
     * A new transport connection for queue {@code qid} of {@code sqsize} + 1 entries (what the transport's
     * handshake says before the fabrics Connect: TCP ICReq, the RDMA CM private data); header and data digests
     * when asked and {@link #digestsUnsupported()} is null.
     */
    Connection connect(int qid, int sqsize, boolean headerDigest, boolean dataDigest) throws Exception;

    /** Null when the transport has digests; else why it cannot have them (the digest case is then skipped). */
    String digestsUnsupported();

    /** One host-side queue connection. Its methods are called from the test thread only. */
    interface Connection extends AutoCloseable {
        /**
         * Sends {@code sqe} (64 bytes, CID set; SGL1 is the transport's to fill) with {@code write} as the
         * host's data: in the capsule when {@code inCapsule}, else the way this transport fetches host data
         * (R2T + H2CData, RDMA READ, loop host memory); or, with {@code readLength} > 0, room for that much
         * data from the target. Returns at once: several commands may be in flight.
         */
        void submit(MemorySegment sqe, byte[] write, boolean inCapsule, int readLength) throws Exception;

        /**
         * Sends {@code sqe} exactly as given, SGL1 included, followed by {@code inCapsule} as the capsule's data:
         * how a hostile host sends descriptors that lie about their data.
         */
        void submitRaw(MemorySegment sqe, byte[] inCapsule) throws Exception;

        /** The next completion on this connection, with the data a read returned; null when none came in time. */
        Completion next(long timeoutMillis) throws Exception;

        /** Sends what this transport's framing forbids (a bad PDU header, a capsule shorter than an SQE). */
        void sendMalformed() throws Exception;

        /** Whether the target ended this connection within {@code timeoutMillis}. */
        boolean closedByTarget(long timeoutMillis) throws Exception;

        /** The host drops the connection now, with whatever is in flight (a host crash or queue deletion). */
        @Override
        void close() throws Exception;
    }

    /** One completion as the host sees it, with the data of a read (empty without). */
    record Completion(int cid, int sqid, int sqhd, int dw0, int dw1, int status, byte[] data) {
        public int code() { return Status.code(status); }
        public boolean dnr() { return Status.dnr(status); }
        @Override
        public String toString() {
            return "cid " + cid + " sqid " + sqid + " dw0 0x" + Integer.toHexString(dw0) + " " + Status.describe(status);
        }
    }
}
