package io.sanport.client;

import io.sanport.nvme.tcp.Crc32c;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * One NVMe/TCP queue pair: a TCP connection initialized with ICReq/ICResp ({@link TcpConnectionSetup}), N
 * preallocated {@link CommandSlot}s for a queue of N entries, a {@link TcpPduSender} any thread sends capsules
 * through (gathered, one {@code sendmsg} for many), and one reader thread running the {@link TcpPduReceiver}
 * (batched receive into a staging buffer, large payloads read in place). Callbacks run on the reader thread.
 * <p>
 * Hot path: no allocation per command when digests are off. Slots, PDU headers, iovecs, the staging buffer and the
 * errno capture segments are preallocated in the queue's arena; the free-slot list and the send list are lock-free
 * stacks linked through the slots (a lock only parks a submitter that finds all N slots in flight).
 * <p>
 * Failure: any transport or protocol error ends the queue: the socket is shut down, the reader fails every
 * command in flight with one {@link NvmeTransportException} and later submissions fail at once. The reader is the
 * only thread that writes into a command's buffer, and in-flight commands are failed only after it stopped, so a
 * caller may free its buffer as soon as its command completed, successfully or not.
 */
public final class NvmeTcpQueue extends NvmeQueue {
    final int qid;
    final int size;
    private final TcpSocket socket;
    /** Slots, PDU headers, iovecs and the staging buffer; closed once the reader has stopped. */
    private final Arena arena = Arena.ofShared();
    private final TcpPduSender sender;
    private final TcpPduReceiver receiver;
    private final Thread reader;
    private final Object failLock = new Object();
    private volatile NvmeTransportException failure;
    private volatile boolean stopped;

    private NvmeTcpQueue(TcpSocket socket, int qid, int size, boolean headerDigest, boolean dataDigest, long maxH2CData) {
        super(size, "reader");
        this.socket = socket;
        this.qid = qid;
        this.size = size;
        for (int i = size - 1; i >= 0; i--) {
            slots[i] = new CommandSlot(i, arena);
            pushFree(slots[i]);
        }
        sender = new TcpPduSender(this, socket, arena, headerDigest, dataDigest, maxH2CData);
        receiver = new TcpPduReceiver(this, socket, sender, arena, headerDigest, dataDigest);
        reader = Thread.ofPlatform().daemon().name("nvme-tcp-" + socket.peer() + "-q" + qid).unstarted(this::readLoop);
    }

    /**
     * Opens the TCP connection and exchanges ICReq/ICResp (NVMe/TCP 1.0 §3.6.2.2-3), checking the ICResp the way
     * the Linux host does. The fabrics Connect is the caller's next step.
     *
     * @param size queue entries = command slots (SQSIZE + 1)
     */
    public static NvmeTcpQueue open(InetSocketAddress address, int qid, int size, boolean headerDigest,
                                    boolean dataDigest, int timeoutMillis) throws IOException {
        return open(address, qid, size, headerDigest, dataDigest, timeoutMillis, null);
    }

    /** As above; with {@code tls} (not null) the connection starts with a TLS 1.3 handshake with that PSK. */
    static NvmeTcpQueue open(InetSocketAddress address, int qid, int size, boolean headerDigest,
                             boolean dataDigest, int timeoutMillis, TcpSocket.Tls tls) throws IOException {
        if (size < 1 || size > CommandSlot.MAX_SLOTS) {
            throw new IllegalArgumentException("queue size " + size + " out of 1.." + CommandSlot.MAX_SLOTS);
        }
        TcpSocket socket = tls == null ? TcpSocket.connect(address, timeoutMillis)
                : TcpSocket.connectTls(address, timeoutMillis, tls);
        try {
            long maxH2CData = TcpConnectionSetup.initialize(socket, headerDigest, dataDigest, timeoutMillis);
            NvmeTcpQueue q = new NvmeTcpQueue(socket, qid, size, headerDigest, dataDigest, maxH2CData);
            q.reader.start();
            return q;
        } catch (IOException | RuntimeException | Error e) {
            socket.close();
            throw e;
        }
    }

    @Override
    int qid() {
        return qid;
    }

    /** Largest write sent inside the capsule; larger ones wait for an R2T. I/O queues: IOCCSZ x 16 - 64. */
    @Override
    void inCapsuleMax(long bytes) {
        sender.inCapsuleMax(bytes);
    }

    @Override
    boolean isFailed() {
        return failure != null;
    }

    @Override
    NvmeTransportException failure() {
        return failure;
    }

    /** C2HData payload bytes this queue copied from its staging buffer rather than reading in place. */
    @Override
    long payloadBytesCopied() {
        return receiver.payloadBytesCopied();
    }

    /** read(2)/readv(2) calls of the reader, for tests. */
    long receiveCalls() {
        return receiver.receiveCalls();
    }

    /** sendmsg(2) calls (capsules and H2CData), for tests. */
    long sendCalls() {
        return sender.sendCalls();
    }

    /** The reader thread, for tests that look at what it allocates. */
    Thread readerThread() {
        return reader;
    }

    @Override
    Thread completionThread() {
        return reader;
    }

    @Override
    void timedOut(CommandSlot slot, long timeoutMillis) {
        fail(new NvmeTransportException(slot.name + " (cid " + slot.cid + ") on queue " + qid + " of "
                + socket.peer() + ": no completion within " + timeoutMillis + " ms"));
        awaitReader();
    }

    @Override
    void send(CommandSlot slot) {
        sender.send(slot);
    }

    @Override
    void completing(CommandSlot slot) {
    }

    /** CRC32C of native memory: the data digest of in-capsule data, H2CData and C2HData payloads. */
    static int dataDigest(Crc32c crc, long address, long length) {
        return crc.digest(MemorySegment.ofAddress(address).reinterpret(length), 0, length);
    }

    // ---- the reader thread ----

    private void readLoop() {
        Throwable cause;
        try {
            sender.deferReaderSends(true);
            while (true) {
                receiver.receivePdu();
            }
        } catch (Throwable t) {
            cause = t;
        }
        sender.deferReaderSends(false);
        sender.dropR2Ts();
        NvmeTransportException failed;
        synchronized (failLock) {
            if (failure == null) {
                failure = cause instanceof NvmeTransportException nte ? nte
                        : new NvmeTransportException("connection of queue " + qid + " to " + socket.peer() + " lost: "
                        + cause.getMessage(), cause);
            }
            failed = failure;
        }
        socket.shutdown();
        // a sender still inside sendmsg reads its buffer: let it finish (it fails fast on the shut-down socket);
        // after it, nothing more turns IN_FLIGHT, and listed capsules are failed by whoever takes the list
        sender.awaitSendmsg();
        sender.flush();
        failInFlight(failed);
        stopped = true;
    }

    // ---- teardown ----

    /** Ends the queue with {@code cause}; the reader fails everything in flight. Idempotent. */
    @Override
    void fail(NvmeTransportException cause) {
        synchronized (failLock) {
            if (failure == null) {
                failure = cause;
            }
        }
        socket.shutdown();
    }

    private void awaitReader() {
        boolean interrupted = false;
        while (reader.isAlive()) {
            try {
                reader.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the connection (what the Linux host does to tear a queue down); commands in flight fail. */
    @Override
    public void close() {
        fail(new NvmeTransportException("queue " + qid + " of " + socket.peer() + " was closed by the host"));
        if (Thread.currentThread() != reader) {
            awaitReader();
        }
        socket.close();
        if (stopped) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "NvmeTcpQueue[" + socket.peer() + " qid " + qid + ", " + size + " entries]";
    }
}
