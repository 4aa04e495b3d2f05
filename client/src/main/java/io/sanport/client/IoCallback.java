package io.sanport.client;

/**
 * Completion of an asynchronous command, called once on the queue's reader thread. Keep it short and never block
 * in it: the next completion of that queue waits for it.
 */
@FunctionalInterface
public interface IoCallback {
    /**
     * @param statusWord CQE status word, {@link io.sanport.nvme.Status#isSuccess} tells success
     * @param result     CQE DW0 (low) and DW1 (high)
     * @param failure    null, or why the command never completed ({@link NvmeTransportException})
     */
    void complete(int statusWord, long result, Throwable failure);
}
