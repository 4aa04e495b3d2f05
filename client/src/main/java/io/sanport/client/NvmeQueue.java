package io.sanport.client;

import java.io.IOException;

/**
 * The host side of one NVMe-oF queue pair, whatever carries it: what {@link RemoteController} needs from a
 * transport (the client's {@code nvme_rdma_queue} / {@code nvme_tcp_queue} cut). A queue of N entries owns N
 * {@link CommandSlot}s; a command is acquired, its SQE filled by the caller, then submitted or executed.
 * Implementations: {@link NvmeTcpQueue}, {@link NvmeRdmaQueue}.
 */
abstract sealed class NvmeQueue implements AutoCloseable permits NvmeTcpQueue, NvmeRdmaQueue {
    /** Queue ID: 0 admin, 1.. I/O. */
    abstract int qid();

    /** A free slot, waiting while all N are in flight (commands park for a slot, they are never failed for one). */
    abstract CommandSlot acquire(String name) throws IOException;

    /** A free slot or null (keep-alive: skip a beat rather than wait). */
    abstract CommandSlot tryAcquire(String name);

    /** Returns a slot that was acquired but never submitted. */
    abstract void cancel(CommandSlot slot);

    /** Sends the command; {@code callback} runs once on the queue's completion thread, failures included. */
    abstract void submit(CommandSlot slot, IoCallback callback);

    /**
     * Sends the command and waits for it.
     *
     * @return CQE DW1:DW0
     * @throws NvmeException          non-zero status
     * @throws NvmeTransportException the queue failed, or no completion within {@code timeoutMillis} (which ends the queue)
     */
    abstract long execute(CommandSlot slot, long timeoutMillis) throws IOException;

    /** Largest write carried inside the capsule (I/O queues: IOCCSZ x 16 - 64). */
    abstract void inCapsuleMax(long bytes);

    abstract boolean isFailed();

    /** Why the queue ended, or null. */
    abstract NvmeTransportException failure();

    /** Ends the queue; every command in flight fails with {@code cause}. Idempotent. */
    abstract void fail(NvmeTransportException cause);

    /** Payload bytes the queue copied between the caller's buffers and its own (staging, bounce). */
    abstract long payloadBytesCopied();

    /** Tears the queue down; commands still in flight fail. */
    @Override
    public abstract void close();
}
