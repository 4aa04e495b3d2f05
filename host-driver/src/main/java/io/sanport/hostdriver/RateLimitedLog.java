package io.sanport.hostdriver;

import java.util.function.Supplier;

/**
 * A warning any host can cause at will (a malformed PDU, a refused connection): at most one line per interval for
 * the whole target, the others counted and reported with the next line, so a hostile peer cannot flood the log.
 * Not on the data path.
 */
public final class RateLimitedLog {
    private final System.Logger log;
    private final long intervalNanos;
    private long last;
    private long suppressed;

    public RateLimitedLog(System.Logger log, long intervalMillis) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.last = System.nanoTime() - intervalNanos;
    }

    public synchronized void warn(Supplier<String> message) {
        long now = System.nanoTime();
        if (now - last < intervalNanos) {
            suppressed++;
            return;
        }
        long more = suppressed;
        suppressed = 0;
        last = now;
        log.log(System.Logger.Level.WARNING, message.get()
                + (more > 0 ? " (and " + more + " more like it since the last report)" : ""));
    }
}
