package io.sanport.hostdriver;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The host end of one {@link LoopTransport} queue: it sends capsules, owns the host memory keyed SGLs name,
 * and receives 16-byte CQEs. Any thread may call it; the target end runs on the queue's reactor.
 */
public final class LoopConnection implements AutoCloseable {
    private final LoopQueue target;
    private final BlockingQueue<byte[]> completions = new LinkedBlockingQueue<>();
    private final Map<Integer, MemorySegment> regions = new ConcurrentHashMap<>();
    private final AtomicInteger nextKey = new AtomicInteger(0x100);
    private final CountDownLatch gone = new CountDownLatch(1);
    private volatile boolean closed;

    LoopConnection(LoopQueue target) {
        this.target = target;
    }

    /**
     * Sends one capsule: the 64-byte SQE followed by its in-capsule data. A capsule shorter than an SQE or
     * longer than IOCCSZ allows is a transport error: the target ends this connection.
     */
    public void send(byte[] capsule) {
        target.receive(capsule.clone());
    }

    /** Host memory the target may read (write data) or fill (read data) through a keyed SGL with the returned key. */
    public int register(MemorySegment region) {
        int key = nextKey.getAndIncrement();
        regions.put(key, region);
        return key;
    }

    /** The next CQE the target sent, or null after {@code timeout}. */
    public byte[] completion(long timeout, TimeUnit unit) throws InterruptedException {
        return completions.poll(timeout, unit);
    }

    /** Whether the target ended this connection (or the host closed it). */
    public boolean closed() {
        return closed;
    }

    /** Waits until the target's queue pair is gone: its device I/O in flight finished and its slots are free. */
    public boolean awaitGone(long timeout, TimeUnit unit) throws InterruptedException {
        return gone.await(timeout, unit);
    }

    /**
     * Holds host-memory transfers to the target until {@link #releaseTransfers}: a slow host, to see requests
     * wait in TRANSFERRING_FROM_HOST.
     */
    public void holdTransfers() {
        target.hold(true);
    }

    public void releaseTransfers() {
        target.hold(false);
    }

    /** The core's queue pair of this connection (white-box tests read its request slots on its reactor). */
    public QueuePair queuePair() {
        return target.queuePair();
    }

    /** The host drops the connection: the target tears its queue pair down (nvmet: the host deleted the queue). */
    @Override
    public void close() {
        target.disconnect();
    }

    // ---------------------------------------------------------------- from the target end

    MemorySegment region(int key, long address, long length) {
        MemorySegment r = regions.get(key);
        if (r == null || address < r.address() || length > r.byteSize() || address - r.address() > r.byteSize() - length) {
            return null;
        }
        return r.asSlice(address - r.address(), length);
    }

    void complete(byte[] cqe) {
        completions.add(cqe);
    }

    void closing() {
        closed = true;
    }

    void gone() {
        gone.countDown();
    }
}
