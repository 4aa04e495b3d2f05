package io.sanport.iop;

import io.sanport.bindings.Errno;

/**
 * A read or write larger than its device takes in one command ({@link BlockDevice#maxTransfer}), run as chunks of
 * at most that size (the block layer's bio split, for devices it does not split for us: an NVMe passthrough
 * namespace whose MDTS or max_hw_sectors is below the target's buffer size, where the kernel refuses the whole
 * command with EINVAL). At most {@link #WINDOW} chunks are in flight; each completion starts the next. The
 * request completes once, when the last chunk in flight is done: with its length, or with the first chunk's error
 * (its -errno and NVMe status; a short chunk is -EIO), after which no further chunk starts. Belongs to one
 * request and is reused with it: its chunks are made on the request's first split, then nothing is allocated.
 * Loop thread only.
 */
final class IoSplit implements IoCallback {
    /** Chunks in flight per request: enough to keep a device busy, few enough not to crowd the ring's slots. */
    static final int WINDOW = 8;

    private final IoRequest request;
    private final IoRequest[] chunks = new IoRequest[WINDOW];
    private BlockEngine engine;
    private long chunkBytes;
    private long next;      // bytes of the request handed to a chunk so far
    private int inFlight;
    private int error;      // the first chunk's -errno, or 0
    private int nvmeStatus; // that chunk's NVMe status

    IoSplit(IoRequest request) {
        this.request = request;
    }

    /** Runs the request in chunks of {@code chunkBytes} (a multiple of the logical block size) on {@code engine}. */
    void start(BlockEngine engine, long chunkBytes, EventLoop loop) {
        this.engine = engine;
        this.chunkBytes = chunkBytes;
        next = 0;
        inFlight = 0;
        error = 0;
        nvmeStatus = 0;
        for (int i = 0; i < WINDOW && next < request.length; i++) {
            if (chunks[i] == null) {
                chunks[i] = new IoRequest(this);
            }
            launch(chunks[i], loop);
        }
    }

    private void launch(IoRequest c, EventLoop loop) {
        long n = Math.min(chunkBytes, request.length - next);
        c.set(request.op, request.device, request.offset + next, n, request.address + next, request.fua);
        c.engine = engine;
        next += n;
        inFlight++;
        engine.dispatch(c);
    }

    /** Count of chunks the request is made of (tests). */
    static long chunkCount(long length, long chunkBytes) {
        return (length + chunkBytes - 1) / chunkBytes;
    }

    @Override
    public void ioComplete(IoRequest c) {
        inFlight--;
        if (error == 0 && !c.succeeded()) {
            error = c.result < 0 ? c.result : -Errno.EIO;
            nvmeStatus = c.nvmeStatus;
        }
        if (error == 0 && next < request.length) {
            launch(c, engine.loop());
            return;
        }
        if (inFlight == 0) {
            request.result = error != 0 ? error : (int) request.length;
            request.nvmeStatus = nvmeStatus;
            request.callback.ioComplete(request);
        }
    }
}
