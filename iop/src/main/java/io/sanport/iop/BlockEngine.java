package io.sanport.iop;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import java.io.IOException;
import java.lang.foreign.Arena;

/**
 * Block I/O on one event loop's ring (nvmet's io-cmd-*.c over one queue): checks each {@link IoRequest} against
 * its device's geometry, lets the device write its own SQE, runs what the device cannot do without blocking on
 * the {@link Offload} threads, splits a read or write larger than its device takes in one command into chunks
 * ({@link IoSplit}), and turns each completion into the request's result. The devices are registered
 * as fixed files 0..n-1 in device order, so a request's device index is its file index.
 */
final class BlockEngine implements EventLoop.Setup {
    private final BlockDevice[] devices;
    private final int ringSetupFlags;
    private final long scratchBytes; // per slot, a multiple of 16; 0 when no device needs any

    // set on the loop thread by start()
    private EventLoop loop;
    private BufferPool pool;
    private long scratch;

    BlockEngine(BlockDevice[] devices) {
        this.devices = devices.clone();
        int flags = 0;
        long bytes = 0;
        for (BlockDevice d : this.devices) {
            flags |= d.ringSetupFlags();
            bytes = Math.max(bytes, d.commandScratchBytes());
        }
        this.ringSetupFlags = flags;
        this.scratchBytes = (bytes + 15) & -16;
    }

    /** The setup flags every device's SQEs need, or'ed: the ring is set up with them. */
    int ringSetupFlags() { return ringSetupFlags; }

    int deviceCount() { return devices.length; }

    BlockDevice device(int index) { return devices[index]; }

    @Override
    public void start(EventLoop loop, Ring ring, Arena arena) throws IOException {
        this.loop = loop;
        this.pool = loop.buffers();
        if (scratchBytes > 0) {
            scratch = arena.allocate(scratchBytes * loop.capacity(), 16).address();
        }
        if (devices.length > 0) {
            int[] fds = new int[devices.length];
            for (int i = 0; i < fds.length; i++) {
                fds[i] = devices[i].fd();
            }
            ring.registerFiles(fds, arena);
        }
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
        loop.submit(r);
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
        r.result = devices[r.device].result(r, res);
        r.callback.ioComplete(r);
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
