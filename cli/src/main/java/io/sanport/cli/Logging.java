package io.sanport.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** One line per log record, on stderr; warnings and worse unless SANPORT_DEBUG is set. */
final class Logging {
    private Logging() {}

    static void configure() {
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler handler = new ConsoleHandler();
        handler.setFormatter(new SimpleFormatter() {
            @Override
            public String format(LogRecord r) {
                String thrown = r.getThrown() == null ? "" : ": " + Errors.describe(r.getThrown());
                return String.format("%tT sanport %s: %s%s%n", r.getMillis(), r.getLevel().getName().toLowerCase(),
                        formatMessage(r), thrown);
            }
        });
        Level level = System.getenv("SANPORT_DEBUG") != null ? Level.FINE : Level.WARNING;
        handler.setLevel(level);
        root.setLevel(level);
        root.addHandler(handler);
    }
}
