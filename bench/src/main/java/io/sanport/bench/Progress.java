package io.sanport.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The live progress line of long work: redrawn in place on a terminal, one line every few seconds otherwise
 * (logs, CI), so a reader always sees it is alive and how fast it goes.
 */
public final class Progress implements AutoCloseable {
    private final PrintStream out;
    private final String label;
    private final LongSupplier ios;
    private final LongSupplier bytes;
    private final double seconds;
    private final boolean tty = System.console() != null;
    private final Thread thread;
    private volatile boolean done;

    public Progress(PrintStream out, String label, double seconds, LongSupplier ios, LongSupplier bytes) {
        this.out = out;
        this.label = label;
        this.seconds = seconds;
        this.ios = ios;
        this.bytes = bytes;
        this.thread = Thread.ofPlatform().daemon().name("sanport-progress").start(this::run);
    }

    private void run() {
        long start = System.nanoTime();
        long lastIos = ios.getAsLong();
        long lastBytes = bytes.getAsLong();
        long last = start;
        long period = tty ? 500_000_000L : 2_000_000_000L;
        while (!done) {
            try {
                Thread.sleep(period / 1_000_000);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            long i = ios.getAsLong();
            long b = bytes.getAsLong();
            double dt = (now - last) / 1e9;
            String line = String.format(Locale.ROOT, "%s [%4.1f/%.0fs] %,10.0f IOPS %,9.1f MiB/s", label,
                    (now - start) / 1e9, seconds, (i - lastIos) / dt, (b - lastBytes) / dt / (1 << 20));
            if (done) {
                break;
            }
            if (tty) {
                out.print("\r" + line + "   ");
            } else {
                out.println(line);
            }
            out.flush();
            lastIos = i;
            lastBytes = b;
            last = now;
        }
    }

    @Override
    public void close() {
        done = true;
        thread.interrupt();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (tty) {
            out.print("\r" + " ".repeat(78) + "\r");
            out.flush();
        }
    }
}
