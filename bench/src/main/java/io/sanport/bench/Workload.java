package io.sanport.bench;

import io.sanport.iop.BlockDevices;

/** What fio calls a job: pattern, block size, queue depth and duration. */
public record Workload(Pattern pattern, int blockSize, int queueDepth, double seconds, double rampSeconds) {

    public enum Pattern {
        RANDREAD("randread", true, false), RANDWRITE("randwrite", true, true),
        READ("read", false, false), WRITE("write", false, true);

        public final String fioName;
        public final boolean random;
        public final boolean write;

        Pattern(String fioName, boolean random, boolean write) {
            this.fioName = fioName;
            this.random = random;
            this.write = write;
        }

        public static Pattern parse(String s) {
            for (Pattern p : values()) {
                if (p.fioName.equals(s)) return p;
            }
            throw new IllegalArgumentException("--rw must be randread, randwrite, read or write, not '" + s + "'");
        }
    }

    public Workload {
        if (blockSize < 512 || blockSize % 512 != 0) {
            throw new IllegalArgumentException("block size must be a multiple of 512, got " + blockSize);
        }
        if (queueDepth < 1 || queueDepth > 4096) {
            throw new IllegalArgumentException("queue depth must be 1..4096, got " + queueDepth);
        }
        if (!(seconds > 0)) {
            throw new IllegalArgumentException("duration must be positive, got " + seconds);
        }
    }

    public static int parseBlockSize(String s) {
        long v = BlockDevices.parseSize(s);
        if (v > Integer.MAX_VALUE) throw new IllegalArgumentException("block size too large: " + s);
        return (int) v;
    }

    public String describe() {
        return pattern.fioName + " bs=" + human(blockSize) + " qd=" + queueDepth;
    }

    static String human(long bytes) {
        if (bytes % (1 << 20) == 0) return bytes / (1 << 20) + "m";
        if (bytes % 1024 == 0) return bytes / 1024 + "k";
        return Long.toString(bytes);
    }
}
