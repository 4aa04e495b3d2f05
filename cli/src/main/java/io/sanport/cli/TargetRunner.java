package io.sanport.cli;

import io.sanport.target.Port;
import io.sanport.target.Subsystem;
import io.sanport.target.Target;
import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;

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
                out.println("    nvme connect -t " + p.transport().type() + " -a " + p.traddr() + " -s " + p.boundPort()
                        + " -n " + s.nqn());
            }
        }
    }

    static int runUntilSignalled(Target target, PrintStream out) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "sanport-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("serving; stop with Ctrl-C or SIGTERM");
        out.flush();
        try {
            stop.await();
            out.println("shutting down: finishing in-flight commands, flushing, closing");
            target.close();
            out.println("stopped");
        } finally {
            stopped.countDown();
        }
        return 0;
    }
}
