package io.sanport.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * One line per log record, on stderr; warnings and worse unless SANPORT_DEBUG is set or a target's
 * {@code --log-level} says otherwise ({@code serve} and {@code export} log connects and disconnects at info). Records logged while the
 * JVM shuts down (SIGTERM: a flush that fails at shutdown, a namespace that lost durability) are kept: JUL's own
 * shutdown hook would otherwise remove every handler while the target still closes ({@link KeepHandlers}).
 */
final class Logging {
    private static volatile ConsoleHandler console;

    private Logging() {}

    /**
     * The level of a long-running target ({@code --log-level}): error, warning, info or debug. SANPORT_DEBUG
     * keeps debug whatever is asked.
     */
    static void level(String name) {
        Level level = switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "error" -> Level.SEVERE;
            case "warning", "warn" -> Level.WARNING;
            case "info" -> Level.INFO;
            case "debug" -> Level.FINE;
            default -> throw new IllegalArgumentException("--log-level: " + name + " is not one of error, warning, info, debug");
        };
        if (System.getenv("SANPORT_DEBUG") != null) {
            return;
        }
        Logger.getLogger("").setLevel(level);
        if (console != null) {
            console.setLevel(level);
        }
    }

    static void configure() {
        // read when the LogManager is first used, which in the launcher is right here
        System.setProperty("java.util.logging.manager", KeepHandlers.class.getName());
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
        console = handler;
        if (LogManager.getLogManager() instanceof KeepHandlers m) {
            m.configured = true;
        }
    }

    /**
     * A LogManager whose reset() (called by JUL's shutdown hook, concurrently with ours) leaves the handlers
     * alone once {@link #configure} installed them: the console handler needs no closing.
     */
    public static final class KeepHandlers extends LogManager {
        private volatile boolean configured;

        public KeepHandlers() {}

        @Override
        public void reset() {
            if (!configured) {
                super.reset();
            }
        }
    }
}
