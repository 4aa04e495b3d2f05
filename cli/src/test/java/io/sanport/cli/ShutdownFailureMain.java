package io.sanport.cli;

import java.io.IOException;

/**
 * Child JVM of {@link TargetRunnerTest}: serves a stand-in target whose close() logs and then fails the way
 * {@code Target.close} does when a flush at shutdown fails, as the launcher runs it.
 */
public final class ShutdownFailureMain {
    private ShutdownFailureMain() {}

    public static void main(String[] args) throws Exception {
        Logging.configure();
        AutoCloseable target = () -> {
            Thread.sleep(300); // JUL's own shutdown hook runs meanwhile
            System.getLogger("sanport.target").log(System.Logger.Level.ERROR,
                    "namespace 1 (/dev/test) refused writes since a flush failed");
            IOException e = new IOException("shutting the target down");
            e.addSuppressed(new IOException("flush at shutdown on reactor-0: flush failed on /dev/test: EIO"));
            throw e;
        };
        System.exit(TargetRunner.runUntilSignalled(target, System.out));
    }
}
