package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import org.junit.jupiter.api.Test;

class RateLimitedLogTest {

    /** What reached the log. */
    static final class Recorder implements System.Logger {
        final List<String> lines = new ArrayList<>();
        @Override public String getName() { return "test"; }
        @Override public boolean isLoggable(Level level) { return true; }
        @Override public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) { lines.add(msg); }
        @Override public void log(Level level, ResourceBundle bundle, String format, Object... params) { lines.add(format); }
    }

    @Test
    void aFloodOfWarningsIsOneLinePerIntervalWithTheRestCounted() throws Exception {
        Recorder r = new Recorder();
        RateLimitedLog log = new RateLimitedLog(r, 200);
        for (int i = 0; i < 1000; i++) {
            int n = i;
            log.warn(() -> "malformed PDU " + n);
        }
        assertEquals(List.of("malformed PDU 0"), r.lines, "one line for a burst");
        Thread.sleep(250);
        log.warn(() -> "malformed PDU again");
        assertEquals(2, r.lines.size());
        assertTrue(r.lines.get(1).endsWith("(and 999 more like it since the last report)"), r.lines.get(1));
    }
}
