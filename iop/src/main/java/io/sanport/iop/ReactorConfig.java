package io.sanport.iop;

/**
 * Sizes of one reactor: SQ entries of its ring (the CQ gets twice that), and its buffer pool. The number
 * of requests in flight is bounded by the CQ, so completions can never overflow.
 */
public record ReactorConfig(int ringEntries, int bufferSize, int bufferCount) {
    public static final ReactorConfig DEFAULT = new ReactorConfig(256, 128 * 1024, 256);

    public ReactorConfig {
        if (ringEntries < 2 || Integer.bitCount(ringEntries) != 1 || ringEntries > 32768) {
            throw new IllegalArgumentException("ring entries must be a power of two in [2, 32768], got " + ringEntries);
        }
    }

    public long bufferBytes() {
        return (long) bufferSize * bufferCount;
    }
}
