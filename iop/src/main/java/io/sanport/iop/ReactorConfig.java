package io.sanport.iop;

/**
 * Sizes of one reactor: SQ entries of its ring, its buffer pool, and how many connections it may serve. The
 * number of requests in flight is bounded by the CQ, so completions can never overflow: the CQ holds twice the
 * SQ entries for I/O plus two entries (a receive and a send) for each connection, kept for them alone so idle
 * sockets can never take the slots block I/O needs.
 */
public record ReactorConfig(int ringEntries, int bufferSize, int bufferCount, int connections) {
    /** Connections one reactor can hold by default: the target's default connection cap, so any split fits. */
    public static final int DEFAULT_CONNECTIONS = 4096;
    /** 2 x 16384 connection slots + the I/O slots stay within the kernel's largest CQ (65536). */
    public static final int MAX_CONNECTIONS = 16384;
    public static final ReactorConfig DEFAULT = new ReactorConfig(256, 128 * 1024, 256);

    public ReactorConfig {
        if (ringEntries < 2 || Integer.bitCount(ringEntries) != 1 || ringEntries > 32768) {
            throw new IllegalArgumentException("ring entries must be a power of two in [2, 32768], got " + ringEntries);
        }
        if (connections < 0 || connections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException("connections per reactor must be in [0, " + MAX_CONNECTIONS + "], got "
                    + connections);
        }
    }

    public ReactorConfig(int ringEntries, int bufferSize, int bufferCount) {
        this(ringEntries, bufferSize, bufferCount, DEFAULT_CONNECTIONS);
    }

    public ReactorConfig withConnections(int connections) {
        return new ReactorConfig(ringEntries, bufferSize, bufferCount, connections);
    }

    public long bufferBytes() {
        return (long) bufferSize * bufferCount;
    }
}
