package io.sanport.iop;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads that run the few device operations that block and have no io_uring form (BLKDISCARD,
 * BLKZEROOUT), so a reactor never blocks. Their completions go back to the owning reactor through its
 * task queue.
 */
final class Offload {
    private Offload() {}

    static final ExecutorService EXECUTOR = new ThreadPoolExecutor(0, 4, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "sanport-offload");
                t.setDaemon(true);
                return t;
            });
}
