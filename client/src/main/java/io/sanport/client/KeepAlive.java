package io.sanport.client;

import io.sanport.nvme.AdminOpcode;
import io.sanport.nvme.SubmissionQueueEntry;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The host's Keep Alive (Linux {@code nvme_keep_alive_work}): a Keep Alive command on the admin queue every KATO/2,
 * skipped while one is outstanding or no slot is free (a beat is skipped rather than waited for). One still
 * unanswered after KATO means the association is dead: every queue is failed, as the Linux host's error recovery
 * does.
 */
final class KeepAlive {
    private final RemoteController controller;
    private final NvmeQueue admin;
    private final IoQueues io;
    private final int katoMillis;
    private ScheduledExecutorService timer;
    private volatile long sentNanos;
    private volatile boolean outstanding;
    private volatile boolean stopped;

    KeepAlive(RemoteController controller, NvmeQueue admin, IoQueues io, int katoMillis) {
        this.controller = controller;
        this.admin = admin;
        this.io = io;
        this.katoMillis = katoMillis;
    }

    /** Starts the timer thread {@code threadName}; nothing with KATO 0. */
    void start(String threadName) {
        if (katoMillis == 0) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r ->
                Thread.ofPlatform().daemon().name(threadName).unstarted(r));
        long period = Math.max(1, katoMillis / 2);
        timer.scheduleAtFixedRate(this::beat, period, period, TimeUnit.MILLISECONDS);
    }

    private void beat() {
        if (stopped || admin.isFailed()) {
            return;
        }
        if (outstanding) {
            if (System.nanoTime() - sentNanos > TimeUnit.MILLISECONDS.toNanos(katoMillis)) {
                // the association is dead: end every queue, as the Linux host's error recovery does
                NvmeTransportException dead = new NvmeTransportException(controller
                        + ": Keep Alive unanswered for more than KATO (" + katoMillis + " ms)");
                admin.fail(dead);
                io.fail(dead);
            }
            return;
        }
        CommandSlot slot = admin.tryAcquire("Keep Alive");
        if (slot == null) {
            return;
        }
        SubmissionQueueEntry.opcode(slot.sqe, AdminOpcode.KEEP_ALIVE);
        sentNanos = System.nanoTime();
        outstanding = true;
        admin.submit(slot, (status, result, failure) -> outstanding = false);
    }

    /** No more Keep Alives (the association is being closed). */
    void stop() {
        stopped = true;
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
