package io.sanport.iop;

import io.sanport.bindings.Errno;

/**
 * One I/O to a device, preallocated and reused by its owner (one per queue entry), never created per I/O.
 * The owner fills it with one of the set-up methods and hands it to {@link Reactor#submit}; the reactor
 * fills {@link #result()} and calls the callback. A request that finds no ring slot waits in the reactor's
 * park queue, in order with every other kind of ring work; it is never failed for lack of a resource.
 */
public final class IoRequest extends RingWork {
    public static final byte READ = 0;
    public static final byte WRITE = 1;
    public static final byte FLUSH = 2;
    public static final byte DISCARD = 3;
    public static final byte WRITE_ZEROES = 4;

    /** Why a request was refused before it reached the device (result is then -EINVAL or -EROFS). */
    public enum Refusal {
        NONE, NO_SUCH_DEVICE, OUT_OF_RANGE, MISALIGNED_OFFSET, MISALIGNED_LENGTH, MISALIGNED_BUFFER, READ_ONLY,
        NOT_SUPPORTED, SHUT_DOWN
    }

    byte op;
    int device;
    long offset;
    long length;
    long address;
    boolean fua;
    IoCallback callback;
    int result;
    int nvmeStatus; // from an NVMe passthrough device: SCT<<8|SC with More/DNR above (Linux's nvme_req status)
    Refusal refusal = Refusal.NONE;
    BlockEngine engine; // of the reactor it was last submitted to
    IoSplit split;      // made on its first read or write beyond its device's maxTransfer, then reused

    public IoRequest() {}

    public IoRequest(IoCallback callback) {
        this.callback = callback;
    }

    IoRequest set(byte op, int device, long offset, long length, long address, boolean fua) {
        this.op = op;
        this.device = device;
        this.offset = offset;
        this.length = length;
        this.address = address;
        this.fua = fua;
        this.result = 0;
        this.nvmeStatus = 0;
        this.refusal = Refusal.NONE;
        return this;
    }

    /** Reads {@code length} bytes at byte {@code offset} of device {@code device} into native memory at {@code address}. */
    public IoRequest read(int device, long offset, int length, long address) {
        return set(READ, device, offset, length, address, false);
    }

    /** Writes; {@code fua} makes this write durable by itself (NVMe FUA, RWF_DSYNC). */
    public IoRequest write(int device, long offset, int length, long address, boolean fua) {
        return set(WRITE, device, offset, length, address, fua);
    }

    public IoRequest flush(int device) {
        return set(FLUSH, device, 0, 0, 0, false);
    }

    public IoRequest discard(int device, long offset, long length) {
        return set(DISCARD, device, offset, length, 0, false);
    }

    public IoRequest writeZeroes(int device, long offset, long length) {
        return set(WRITE_ZEROES, device, offset, length, 0, false);
    }

    public IoRequest callback(IoCallback callback) {
        this.callback = callback;
        return this;
    }

    public byte op() { return op; }
    public int device() { return device; }
    public long offset() { return offset; }
    public long length() { return length; }
    public long address() { return address; }
    public boolean fua() { return fua; }

    /** Bytes transferred (or 0 for flush, discard, write zeroes) on success, -errno on failure. */
    public int result() { return result; }

    public boolean succeeded() { return result >= 0 && (op > WRITE || result == length); }

    public Refusal refusal() { return refusal; }

    /**
     * The NVMe status the device completed this request with (an nvme-passthru device), as Linux reports it:
     * {@code SCT<<8 | SC} ({@link io.sanport.nvme.Status} codes) plus More 0x2000 and DNR 0x4000; 0 when none.
     * The result is then -EIO.
     */
    public int nvmeStatus() { return nvmeStatus; }

    @Override
    boolean prep(SubmissionQueue sq, long userData) {
        return engine.prep(this, sq, (int) userData);
    }

    @Override
    void complete(int res, int flags) {
        engine.complete(this, res);
    }

    public static String opName(byte op) {
        return switch (op) {
            case READ -> "read";
            case WRITE -> "write";
            case FLUSH -> "flush";
            case DISCARD -> "discard";
            case WRITE_ZEROES -> "write zeroes";
            default -> "op " + op;
        };
    }

    /**
     * What went wrong, in words a storage engineer can act on. Only called on failure, so it may allocate.
     */
    public String describe(BlockDevice dev) {
        String what = opName(op) + (op == FLUSH ? "" : " of " + length + " bytes at offset " + offset)
                + " on " + (dev == null ? "device " + device : dev.name());
        return switch (refusal) {
            case NONE -> nvmeStatus != 0
                    ? what + ": " + NvmePassthruDevice.statusText(nvmeStatus)
                    : result >= 0 && result < length
                    ? what + ": short transfer of " + result + " bytes"
                    : what + (result < 0 ? ": " + Errno.describe(-result) : ": ok");
            case NO_SUCH_DEVICE -> what + ": no such device index";
            case OUT_OF_RANGE -> what + ": beyond the end of the device (" + dev.size() + " bytes)";
            case MISALIGNED_OFFSET -> what + ": the offset is not a multiple of the logical block size "
                    + dev.logicalBlockSize() + (dev.directIo() ? " (O_DIRECT)" : "");
            case MISALIGNED_LENGTH -> what + ": the length is not a multiple of the logical block size "
                    + dev.logicalBlockSize() + (dev.directIo() ? " (O_DIRECT)" : "");
            case MISALIGNED_BUFFER -> what + ": the buffer address 0x" + Long.toHexString(address)
                    + " is not aligned to " + dev.logicalBlockSize() + " bytes, which O_DIRECT requires";
            case READ_ONLY -> what + ": the device is open read-only";
            case NOT_SUPPORTED -> what + ": the device does not support it";
            case SHUT_DOWN -> what + ": the I/O processor is shutting down";
        };
    }
}
