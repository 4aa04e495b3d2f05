package io.sanport.hostdriver;

import io.sanport.iop.Reactor;
import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.SglDescriptor;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.Capsule;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * The target end of one {@link LoopTransport} queue (nvmet-loop's {@code nvme_loop_queue}): capsules from its
 * {@link LoopConnection} are started on the core, data comes from the capsule or the host's registered memory
 * and a completion goes back as a 16-byte CQE. Reactor thread only, except {@link #receive}, {@link #hold} and
 * {@link #disconnect}, which hop onto it.
 */
final class LoopQueue implements RemoteQueue {
    private static final System.Logger LOG = System.getLogger("sanport.loop");
    private static final long AT = SubmissionQueueEntry.OFFSET_DPTR;
    private static final int SQE = (int) SubmissionQueueEntry.SIZE;

    /** One command of this queue: its core Request and where its data is (nvmet's {@code nvme_loop_iod}). */
    private static final class LoopCommand {
        final Request request;
        byte[] capsule;           // the capsule as received, until its in-capsule data is copied
        int inCapsuleOffset;      // where the in-capsule data starts after the SQE
        MemorySegment hostMemory; // keyed SGL: the host's region for the data, else null

        LoopCommand(Request request) { this.request = request; }
    }

    private final Reactor reactor;
    private final long maxTransfer;
    private final LoopConnection host;
    private final ArrayDeque<LoopCommand> held = new ArrayDeque<>();
    private QueuePair queue;
    private LoopCommand[] commands = new LoopCommand[1];
    private boolean holding;
    private boolean closed;

    LoopQueue(Reactor reactor, long maxTransfer) {
        this.reactor = reactor;
        this.maxTransfer = maxTransfer;
        this.host = new LoopConnection(this);
    }

    void bind(QueuePair q) { this.queue = q; }
    LoopConnection host() { return host; }
    QueuePair queuePair() { return queue; }

    /** A capsule from the host, on any thread. */
    void receive(byte[] capsule) {
        onReactor(() -> start(capsule));
    }

    private void start(byte[] capsule) {
        if (closed) {
            return;
        }
        if (capsule.length < SQE || capsule.length > SQE + Capsule.IN_CAPSULE_DATA) {
            protocolError("a " + capsule.length + "-byte capsule");
            return;
        }
        Request r = queue.acquire();
        if (r == null) {
            protocolError("more commands outstanding than the queue's " + queue.capacity() + " entries");
            return;
        }
        LoopCommand c = command(r);
        c.capsule = capsule;
        MemorySegment.copy(MemorySegment.ofArray(capsule), 0, r.sqe(), 0, SQE);
        r.inCapsuleLength(capsule.length - SQE);
        queue.start(r);
    }

    private LoopCommand command(Request r) {
        LoopCommand c = commands[r.tag()];
        if (c == null) {
            c = new LoopCommand(r);
            commands[r.tag()] = c;
        }
        return c;
    }

    /** SGL1 as nvmet-rdma maps it: in-capsule data (Data Block, Offset) or host memory (Keyed Data Block). */
    @Override
    public int mapData(Request r) {
        LoopCommand c = commands[r.tag()];
        MemorySegment sqe = r.sqe();
        int received = r.inCapsuleLength();
        r.inCapsuleLength(0);
        c.hostMemory = null;
        int id = SglDescriptor.identifier(sqe, AT);
        switch (SglDescriptor.type(id)) {
            case SglDescriptor.TYPE_DATA_BLOCK -> {
                if (SglDescriptor.subtype(id) != SglDescriptor.SUBTYPE_OFFSET) {
                    return Status.INVALID_FIELD;
                }
                long off = SglDescriptor.address(sqe, AT);
                long len = SglDescriptor.length(sqe, AT);
                int status = SglDescriptor.checkInCapsule(off, len, received, Capsule.IN_CAPSULE_DATA);
                if (status != Status.SUCCESS) {
                    return status;
                }
                c.inCapsuleOffset = (int) off;
                r.inCapsuleLength((int) len);
                r.dataLength(len);
                return Status.SUCCESS;
            }
            case SglDescriptor.TYPE_KEYED_DATA_BLOCK -> {
                int subtype = SglDescriptor.subtype(id);
                if (subtype != SglDescriptor.SUBTYPE_ADDRESS && subtype != SglDescriptor.SUBTYPE_INVALIDATE_KEY) {
                    return Status.INVALID_FIELD;
                }
                int len = SglDescriptor.keyedLength(sqe, AT);
                if (len == 0) {
                    return Status.SUCCESS;
                }
                if (len > maxTransfer) {
                    return Status.SGL_INVALID_DATA;
                }
                c.hostMemory = host.region(SglDescriptor.key(sqe, AT), SglDescriptor.address(sqe, AT), len);
                if (c.hostMemory == null) {
                    return Status.DATA_XFER_ERROR; // no such key or range: what an RDMA access error ends as
                }
                r.dataLength(len);
                return Status.SUCCESS;
            }
            default -> {
                return Status.SGL_INVALID_TYPE;
            }
        }
    }

    @Override
    public void receiveData(Request r) {
        LoopCommand c = commands[r.tag()];
        if (r.inCapsuleLength() > 0) {
            MemorySegment.copy(MemorySegment.ofArray(c.capsule), SQE + c.inCapsuleOffset, r.buffer(), 0, r.inCapsuleLength());
            c.capsule = null;
            queue.dataReceived(r); // in hand: the core runs it once it returns
        } else if (holding) {
            held.addLast(c);
        } else {
            fetch(c);
        }
    }

    private void fetch(LoopCommand c) {
        Request r = c.request;
        MemorySegment.copy(c.hostMemory, 0, r.buffer(), 0, r.dataLength());
        queue.dataReceived(r);
    }

    void hold(boolean on) {
        onReactor(() -> {
            holding = on;
            while (!holding && !held.isEmpty() && !closed) {
                fetch(held.pollFirst());
            }
        });
    }

    @Override
    public void sendResponse(Request r) {
        LoopCommand c = commands[r.tag()];
        if (r.sendsData()) {
            MemorySegment.copy(r.buffer(), 0, c.hostMemory, 0, r.dataLength());
        }
        byte[] cqe = new byte[(int) CompletionQueueEntry.SIZE];
        r.fillCompletion(MemorySegment.ofArray(cqe));
        c.capsule = null;
        c.hostMemory = null;
        if (!closed) {
            host.complete(cqe);
        }
        queue.release(r);
    }

    @Override
    public void install(int entries) {
        LoopCommand[] grown = new LoopCommand[entries];
        System.arraycopy(commands, 0, grown, 0, Math.min(commands.length, entries));
        commands = grown;
    }

    @Override
    public void disconnect() {
        onReactor(this::close);
    }

    @Override
    public String localAddress() {
        return "loop";
    }

    private void protocolError(String what) {
        LOG.log(System.Logger.Level.WARNING, "loop " + queue + ": " + what + ", ending the connection");
        close();
    }

    private void close() {
        if (closed) {
            return;
        }
        closed = true;
        host.closing();
        held.clear();
        queue.close(host::gone);
    }

    private void onReactor(Runnable task) {
        if (reactor.inReactor()) {
            task.run();
            return;
        }
        try {
            reactor.execute(task);
        } catch (RejectedExecutionException e) {
            host.closing(); // the reactor is gone: so is this queue
            host.gone();
        }
    }
}
