package io.sanport.iop;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import java.io.IOException;
import java.lang.foreign.Arena;

/**
 * Block I/O on one event loop's ring (nvmet's io-cmd-*.c over one queue): checks each {@link IoRequest} against
 * its device's geometry, lets the device write its own SQE, runs what the device cannot do without blocking on
 * the {@link Offload} threads, splits a read or write larger than its device takes in one command into chunks
 * ({@link IoSplit}), and turns each completion into the request's result. The ring has a sparse fixed-file
 * table of {@link #slots()} slots; a device sits in one slot, which is its index in every request, so a
 * request's device index is its file index. Devices come and go while the ring runs ({@link #attach},
 * {@link #detach}): a detached device takes no new request, and its slot is emptied only once the requests
 * in flight on it have completed.
 */
final class BlockEngine implements EventLoop.Setup {
    /** Fixed-file slots when the devices at start do not need more: room for devices added later. */
    static final int DEFAULT_SLOTS = 256;

    // loop thread only after start(), but for racy reads of devices[] by Reactor.device()
    private final BlockDevice[] devices;
    private final int[] inflight;           // requests (or chunks) handed to the ring, per slot
    private final java.util.function.IntConsumer[] detached; // per slot being detached: told the flush result
    private final boolean[] flushed;        // per slot being detached: its last flush is done
    private final int[] flushResult;        // that flush's result: 0, or -errno
    private final int initialCount;
    private final int ringSetupFlags;
    private final long scratchBytes; // per slot, a multiple of 16; 0 when no device needs any

    // set on the loop thread by start()
    private EventLoop loop;
    private Ring ring;
    private BufferPool pool;
    private long scratch;

    BlockEngine(BlockDevice[] devices) {
        this(devices, Math.max(DEFAULT_SLOTS, devices.length));
    }

    BlockEngine(BlockDevice[] devices, int slots) {
        if (slots < devices.length) {
            throw new IllegalArgumentException(devices.length + " devices for " + slots + " fixed-file slots");
        }
        this.devices = java.util.Arrays.copyOf(devices, slots);
        this.inflight = new int[slots];
        this.detached = new java.util.function.IntConsumer[slots];
        this.flushed = new boolean[slots];
        this.flushResult = new int[slots];
        this.initialCount = devices.length;
        int flags = 0;
        long bytes = 0;
        for (BlockDevice d : devices) {
            if (d == null) {
                continue;
            }
            flags |= d.ringSetupFlags();
            bytes = Math.max(bytes, d.commandScratchBytes());
        }
        this.ringSetupFlags = flags;
        this.scratchBytes = (bytes + 15) & -16;
    }

    /** How many fixed-file slots the ring has: the most devices it can drive at once. */
    int slots() { return devices.length; }

    /** The setup flags every device's SQEs need, or'ed: the ring is set up with them. */
    int ringSetupFlags() { return ringSetupFlags; }

    /** The devices at start (slots 0..n-1); later ones go in the slots after them. */
    int deviceCount() { return initialCount; }

    BlockDevice device(int index) { return devices[index]; }

    @Override
    public void start(EventLoop loop, Ring ring, Arena arena) throws IOException {
        this.loop = loop;
        this.pool = loop.buffers();
        if (scratchBytes > 0) {
            scratch = arena.allocate(scratchBytes * loop.capacity(), 16).address();
        }
        this.ring = ring;
        ring.registerSparseFiles(devices.length);
        for (int i = 0; i < devices.length; i++) {
            if (devices[i] != null) {
                ring.updateFile(i, devices[i].fd());
            }
        }
    }

    /**
     * Puts {@code device} in the empty slot {@code index} of this ring. Loop thread. Refused when the device
     * needs ring setup flags or per-command scratch the ring was not set up with (an NVMe passthrough device
     * on a ring started without one): such a device must be there at start.
     */
    void attach(int index, BlockDevice device) throws IOException {
        if (devices[index] != null) {
            throw new IllegalStateException("fixed-file slot " + index + " already holds " + devices[index].name());
        }
        if ((device.ringSetupFlags() & ~ring.setupFlags()) != 0 || device.commandScratchBytes() > scratchBytes) {
            throw new IOException(device.name() + " needs an io_uring ring set up for it (setup flags 0x"
                    + Integer.toHexString(device.ringSetupFlags()) + "): open it with the devices the I/O processor"
                    + " starts with");
        }
        ring.updateFile(index, device.fd());
        devices[index] = device;
    }

    /**
     * Takes the device out of slot {@code index}: new requests for it are refused (NO_SUCH_DEVICE) from now on;
     * once those in flight have completed, a last flush through this ring (a writable device: what it acknowledged
     * is on the medium before it goes), then the slot is emptied and {@code done} hears the flush's result (0 or
     * -errno) on the loop thread. Loop thread.
     */
    void detach(int index, java.util.function.IntConsumer done) {
        if (devices[index] == null || detached[index] != null) {
            throw new IllegalStateException("fixed-file slot " + index + " holds no device to detach");
        }
        detached[index] = done;
        if (inflight[index] == 0) {
            drained(index);
        }
    }

    /** Nothing in flight on a slot being detached: flush it once, then empty it. */
    private void drained(int index) {
        if (!flushed[index] && !devices[index].readOnly()) {
            flushed[index] = true;
            dispatch(new IoRequest(r -> flushResult[index] = r.result < 0 ? r.result : 0).flush(index));
            return;
        }
        emptySlot(index);
    }

    private void emptySlot(int index) {
        java.util.function.IntConsumer done = detached[index];
        int result = flushResult[index];
        detached[index] = null;
        flushed[index] = false;
        flushResult[index] = 0;
        devices[index] = null;
        try {
            ring.updateFile(index, -1);
        } catch (ErrnoException e) {
            // the kernel still holds the file, not us: the slot stays unusable for a new device until it is
            // overwritten, which attach() does with the same call
            System.getLogger("sanport.iop").log(System.Logger.Level.WARNING, loop.name() + ": " + e.getMessage());
        }
        done.accept(result);
    }

    /** Requests (or split chunks) in flight on slot {@code index} (tests). Loop thread. */
    int inflight(int index) { return inflight[index]; }

    /** Hands a checked request (or one chunk of it) to the ring, counted against its device. Loop thread. */
    void dispatch(IoRequest r) {
        r.engine = this;
        inflight[r.device]++;
        loop.submit(r);
    }

    /** Runs {@code r}, or completes it at once when its checks refuse it. Loop thread. */
    void submit(IoRequest r) {
        if (!check(r)) {
            r.callback.ioComplete(r);
            return;
        }
        r.engine = this;
        BlockDevice d = devices[r.device];
        if (r.op <= IoRequest.WRITE && r.length > d.maxTransfer()) {
            if (r.split == null) {
                r.split = new IoSplit(r);
            }
            // whole logical blocks per chunk, at least one (check() made the length a multiple of them)
            long chunk = Math.max(d.maxTransfer() & -(long) d.logicalBlockSize(), d.logicalBlockSize());
            r.split.start(this, chunk, loop);
            return;
        }
        dispatch(r);
    }

    EventLoop loop() {
        return loop;
    }

    /** The checks every request passes before it reaches the device; fills refusal and result on failure. */
    boolean check(IoRequest r) {
        IoRequest.Refusal refusal = refusal(r);
        if (refusal == IoRequest.Refusal.NONE) {
            return true;
        }
        r.refusal = refusal;
        r.result = switch (refusal) {
            case READ_ONLY -> -Errno.EROFS;
            case NOT_SUPPORTED -> -Errno.EOPNOTSUPP;
            case SHUT_DOWN -> -Errno.ECANCELED;
            default -> -Errno.EINVAL;
        };
        return false;
    }

    private IoRequest.Refusal refusal(IoRequest r) {
        if (r.device < 0 || r.device >= devices.length) {
            return IoRequest.Refusal.NO_SUCH_DEVICE;
        }
        BlockDevice d = devices[r.device];
        if (d == null || detached[r.device] != null) {
            return IoRequest.Refusal.NO_SUCH_DEVICE;
        }
        byte op = r.op;
        if (op == IoRequest.FLUSH) {
            return IoRequest.Refusal.NONE;
        }
        if (op != IoRequest.READ && d.readOnly()) {
            return IoRequest.Refusal.READ_ONLY;
        }
        long mask = d.logicalBlockSize() - 1;
        if ((r.offset & mask) != 0 || r.offset < 0) {
            return IoRequest.Refusal.MISALIGNED_OFFSET;
        }
        if ((r.length & mask) != 0 || r.length <= 0 || (op <= IoRequest.WRITE && r.length > Integer.MAX_VALUE)) {
            return IoRequest.Refusal.MISALIGNED_LENGTH;
        }
        if (r.offset > d.size() || r.length > d.size() - r.offset) { // both >= 0 here: no sum to wrap
            return IoRequest.Refusal.OUT_OF_RANGE;
        }
        if (op <= IoRequest.WRITE) {
            if (d.directIo() && (r.address & mask) != 0) {
                return IoRequest.Refusal.MISALIGNED_BUFFER;
            }
        } else if ((op == IoRequest.DISCARD && !d.supportsDiscard())
                || (op == IoRequest.WRITE_ZEROES && !d.supportsWriteZeroes())) {
            return IoRequest.Refusal.NOT_SUPPORTED;
        }
        return IoRequest.Refusal.NONE;
    }

    /** {@code r}'s SQE in {@code slot}, written by its device, or its blocking call handed to the offload threads. */
    boolean prep(IoRequest r, SubmissionQueue sq, int slot) {
        BlockDevice d = devices[r.device];
        if (d.offloads(r)) {
            offload(r, d, slot);
            return true;
        }
        boolean fixed = r.op <= IoRequest.WRITE && pool.contains(r.address, r.length);
        return d.prep(sq, r, r.device, fixed, scratch == 0 ? 0 : scratch + scratchBytes * slot, slot);
    }

    /** The device's reading of the completion becomes the result; then the owner hears of it. */
    void complete(IoRequest r, int res) {
        int index = r.device;
        r.result = devices[index].result(r, res);
        inflight[index]--;
        r.callback.ioComplete(r); // may dispatch the next chunk of a split request: the device stays till then
        if (inflight[index] == 0 && detached[index] != null) {
            drained(index);
        }
    }

    /** A blocking device call on the offload threads; its completion comes back to the loop as a task. */
    private void offload(IoRequest r, BlockDevice d, int slot) {
        boolean discard = r.op == IoRequest.DISCARD;
        long offset = r.offset;
        long length = r.length;
        EventLoop l = loop;
        Offload.EXECUTOR.execute(() -> {
            int res;
            try {
                if (discard) d.discard(offset, length); else d.writeZeroes(offset, length);
                res = 0;
            } catch (ErrnoException e) {
                res = -e.errno();
            } catch (IOException | RuntimeException e) {
                res = -Errno.EIO;
            }
            int result = res;
            l.post(() -> l.complete(slot, result, 0));
        });
    }
}
