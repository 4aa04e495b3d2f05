package io.sanport.cli;

import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Subsystem;
import io.sanport.hostdriver.Target;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a started target in the foreground until SIGINT or SIGTERM, then shuts it down gracefully: stop
 * accepting, finish or fail what is in flight, flush, close — what a service manager expects.
 */
final class TargetRunner {
    private TargetRunner() {}

    static void printPorts(Target target, PrintStream out) {
        for (Port p : target.ports()) {
            out.println("listening: " + p.transport().type() + " " + p.traddr() + ":" + p.boundPort()
                    + (p.subsystems().isEmpty() ? " (discovery)" : ""));
        }
        for (Port p : target.ports()) {
            for (Subsystem s : p.subsystems()) {
                out.println("  " + s.nqn() + " — a Linux peer connects with:");
                out.println("    nvme connect -t " + p.transport().type() + " -a " + reachable(p) + " -s " + p.boundPort()
                        + " -n " + s.nqn());
            }
        }
    }

    /** The address a peer can use: the port's own, or for a wildcard port this host's first non-loopback one. */
    static String reachable(Port p) {
        if (!p.wildcard()) {
            return p.traddr();
        }
        try {
            for (var nif : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp() || nif.isLoopback()) continue;
                for (var a : java.util.Collections.list(nif.getInetAddresses())) {
                    if (a instanceof java.net.Inet4Address) return a.getHostAddress();
                }
            }
        } catch (java.io.IOException e) {
            // fall through
        }
        return "<this host's address>";
    }

    static int runUntilSignalled(AutoCloseable target, PrintStream out) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicInteger status = new AtomicInteger(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // a stop on SIGTERM/SIGINT that closed cleanly is a success: exit 0, not the JVM's 128 + signal
            // (143), which service managers and scripts read as a failure
            out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(status.get());
        }, "sanport-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("serving; stop with Ctrl-C or SIGTERM");
        out.flush();
        try {
            stop.await();
            out.println("shutting down: finishing in-flight commands, flushing, closing");
            try {
                target.close();
            } catch (Exception e) {
                // the hook halts the JVM as soon as stopped is counted down, before the caller could say why
                System.err.println("sanport: error: " + Errors.describe(e));
                for (Throwable s : e.getSuppressed()) {
                    System.err.println("sanport: error:   " + Errors.describe(s));
                }
                throw e;
            }
            out.println("stopped");
            status.set(0);
        } finally {
            stopped.countDown();
        }
        return 0;
    }
}
