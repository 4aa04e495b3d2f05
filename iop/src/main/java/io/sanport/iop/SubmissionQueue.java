package io.sanport.iop;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.uring.IoUringSq;
import io.sanport.bindings.uring.IoUringSqe;
import io.sanport.bindings.uring.Liburing;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * The mapped submission ring, written from Java. liburing's {@code io_uring_get_sqe} and the
 * {@code io_uring_prep_*} helpers are inline in the header; these are their Java forms. We own
 * {@code sq->sqe_tail} and hand it to liburing before each submit, which publishes it to the kernel's tail
 * with a release store. Confined to the reactor thread.
 */
public final class SubmissionQueue {
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final MemorySegment sq;      // struct io_uring_sq inside struct io_uring
    private final MemorySegment khead;   // the kernel's consumer index
    private final MemorySegment ktail;   // the kernel's producer index, which we store
    private final MemorySegment sqes;
    private final int mask;
    private final int entries;
    private final long sqeSize; // 64, or 128 on an IORING_SETUP_SQE128 ring
    private int tail;

    SubmissionQueue(MemorySegment ring, int setupFlags) {
        this.sqeSize = (setupFlags & Liburing.IORING_SETUP_SQE128) != 0 ? 2 * IoUringSqe.SIZE : IoUringSqe.SIZE;
        this.sq = ring.asSlice(io.sanport.bindings.uring.IoUring.SQ, IoUringSq.LAYOUT);
        this.entries = IoUringSq.ring_entries(sq);
        this.mask = IoUringSq.ring_mask(sq);
        this.khead = IoUringSq.khead(sq).reinterpret(4);
        this.ktail = IoUringSq.ktail(sq).reinterpret(4);
        this.sqes = IoUringSq.sqes(sq).reinterpret((long) entries * sqeSize);
        this.tail = IoUringSq.sqe_tail(sq);
        // liburing >= 2.2 maps array[i] = i once at init; do it again so older ones work too. liburing >= 2.6 on
        // Linux >= 6.6 (Debian 13) sets up the ring with IORING_SETUP_NO_SQARRAY: no array at all (NULL)
        MemorySegment array = IoUringSq.array(sq);
        if (array.address() != 0) {
            array = array.reinterpret((long) entries * 4);
            for (int i = 0; i < entries; i++) {
                array.setAtIndex(JAVA_INT, i, i);
            }
        }
    }

    public int entries() {
        return entries;
    }

    /** Makes the written entries visible to liburing's submit (which stores the kernel tail). */
    void publish() {
        IoUringSq.sqe_tail(sq, tail);
    }

    /**
     * liburing's __io_uring_flush_sq() for a ring without SQPOLL: stores the kernel tail (and liburing's
     * sqe_head, so a later liburing submit sees nothing new) and returns how many entries the kernel has not yet
     * consumed: the to_submit of a raw io_uring_enter.
     */
    int flush() {
        IoUringSq.sqe_tail(sq, tail);
        if (IoUringSq.sqe_head(sq) != tail) {
            IoUringSq.sqe_head(sq, tail);
            INT.setRelease(ktail, 0L, tail);
        }
        return tail - (int) INT.getAcquire(khead, 0L);
    }

    /** io_uring_get_sqe(): the byte offset of a free entry in {@link #sqes}, or -1 when the ring is full. */
    private long next() {
        if (tail - (int) INT.getAcquire(khead, 0L) >= entries) {
            return -1;
        }
        long at = (long) (tail & mask) * sqeSize;
        tail++;
        return at;
    }

    /** io_uring_prep_rw(): writes every field of the entry, so no stale bytes of an earlier use remain. */
    private boolean prepRw(int op, int flags, int fd, long addr, int len, long offset, int rwFlags, int bufIndex,
                           long userData) {
        return prepAt(op, flags, fd, addr, len, offset, rwFlags, bufIndex, userData) >= 0;
    }

    /** {@link #prepRw} that returns the entry's byte offset in {@link #sqes()}, or -1 when the SQ is full. */
    private long prepAt(int op, int flags, int fd, long addr, int len, long offset, int rwFlags, int bufIndex,
                        long userData) {
        long at = next();
        if (at < 0) {
            return -1;
        }
        MemorySegment s = sqes;
        IoUringSqe.opcode(s, at, (byte) op);
        IoUringSqe.flags(s, at, (byte) flags);
        IoUringSqe.ioprio(s, at, (short) 0);
        IoUringSqe.fd(s, at, fd);
        IoUringSqe.off(s, at, offset);
        IoUringSqe.addr(s, at, addr);
        IoUringSqe.len(s, at, len);
        IoUringSqe.rw_flags(s, at, rwFlags);
        IoUringSqe.user_data(s, at, userData);
        IoUringSqe.buf_index(s, at, (short) bufIndex);
        IoUringSqe.personality(s, at, (short) 0);
        IoUringSqe.file_index(s, at, 0);
        IoUringSqe.addr3(s, at, 0);
        s.set(java.lang.foreign.ValueLayout.JAVA_LONG, at + IoUringSqe.ADDR3 + 8, 0L);
        return at;
    }

    /** Size of one entry: 128 bytes on an IORING_SETUP_SQE128 ring, else 64. */
    public long entrySize() {
        return sqeSize;
    }

    /** The mapped entries, for a caller that fills the command area of an entry from {@link #prepUringCmd}. */
    MemorySegment sqes() {
        return sqes;
    }

    /**
     * IORING_OP_URING_CMD on a registered file (fio's fio_ioring_cmd_prep; liburing 2.3 has no helper):
     * {@code cmdOp} goes in {@code sqe->cmd_op} with {@code __pad1} zero, {@code uringCmdFlags}
     * (IORING_URING_CMD_FIXED) in {@code sqe->uring_cmd_flags}. Returns the entry's byte offset in
     * {@link #sqes()}; the caller writes the command at {@code offset + IoUringSqe.CMD} (up to 80 bytes on an
     * SQE128 ring). -1 when the SQ is full.
     */
    public long prepUringCmd(int fileIndex, int cmdOp, int uringCmdFlags, int bufIndex, long userData) {
        return prepAt(Liburing.IORING_OP_URING_CMD, Liburing.IOSQE_FIXED_FILE, fileIndex, 0, 0,
                Integer.toUnsignedLong(cmdOp), uringCmdFlags, bufIndex, userData);
    }

    /** io_uring_prep_read_fixed() on a registered file. */
    public boolean prepReadFixed(int fileIndex, long addr, int len, long offset, int bufIndex, long userData) {
        return prepRw(Liburing.IORING_OP_READ_FIXED, Liburing.IOSQE_FIXED_FILE, fileIndex, addr, len, offset, 0,
                bufIndex, userData);
    }

    /** io_uring_prep_write_fixed() on a registered file; {@code rwFlags} may carry RWF_DSYNC (FUA). */
    public boolean prepWriteFixed(int fileIndex, long addr, int len, long offset, int rwFlags, int bufIndex,
                                  long userData) {
        return prepRw(Liburing.IORING_OP_WRITE_FIXED, Liburing.IOSQE_FIXED_FILE, fileIndex, addr, len, offset,
                rwFlags, bufIndex, userData);
    }

    /** io_uring_prep_read() on a registered file, for buffers outside the registered region. */
    public boolean prepRead(int fileIndex, long addr, int len, long offset, long userData) {
        return prepRw(Liburing.IORING_OP_READ, Liburing.IOSQE_FIXED_FILE, fileIndex, addr, len, offset, 0, 0, userData);
    }

    /** io_uring_prep_write() on a registered file. */
    public boolean prepWrite(int fileIndex, long addr, int len, long offset, int rwFlags, long userData) {
        return prepRw(Liburing.IORING_OP_WRITE, Liburing.IOSQE_FIXED_FILE, fileIndex, addr, len, offset, rwFlags, 0,
                userData);
    }

    /** io_uring_prep_fsync() with IORING_FSYNC_DATASYNC: the NVMe Flush. */
    public boolean prepFdatasync(int fileIndex, long userData) {
        return prepRw(Liburing.IORING_OP_FSYNC, Liburing.IOSQE_FIXED_FILE, fileIndex, 0, 0, 0,
                Liburing.IORING_FSYNC_DATASYNC, 0, userData);
    }

    /** io_uring_prep_fallocate(): the length goes in addr and the mode in len, as liburing does. */
    public boolean prepFallocate(int fileIndex, int mode, long offset, long length, long userData) {
        return prepRw(Liburing.IORING_OP_FALLOCATE, Liburing.IOSQE_FIXED_FILE, fileIndex, length, mode, offset, 0, 0,
                userData);
    }

    /** io_uring_prep_read() on a plain fd (the reactor's eventfd). */
    public boolean prepReadFd(int fd, long addr, int len, long userData) {
        return prepRw(Liburing.IORING_OP_READ, 0, fd, addr, len, 0, 0, 0, userData);
    }

    /** io_uring_prep_cancel64() with IORING_ASYNC_CANCEL_ANY: cancels everything in flight. */
    public boolean prepCancelAll(long userData) {
        return prepRw(Liburing.IORING_OP_ASYNC_CANCEL, 0, -1, 0, 0, 0,
                Liburing.IORING_ASYNC_CANCEL_ALL | Liburing.IORING_ASYNC_CANCEL_ANY, 0, userData);
    }

    /** io_uring_prep_cancel64(): cancels the one request whose user_data is {@code target}. */
    public boolean prepCancel(long target, long userData) {
        return prepRw(Liburing.IORING_OP_ASYNC_CANCEL, 0, -1, target, 0, 0, 0, 0, userData);
    }

    /** io_uring_prep_recv() on a socket fd. */
    public boolean prepRecv(int fd, long addr, int len, int msgFlags, long userData) {
        return prepRw(Liburing.IORING_OP_RECV, 0, fd, addr, len, 0, msgFlags, 0, userData);
    }

    /**
     * io_uring_prep_writev() on a socket fd: one gather write of {@code count} {@code struct iovec}s at
     * {@code iovecs}, so a PDU header, its payload in a registered buffer and its digests leave in one call.
     * The offset is 0: sockets ignore it. A stream socket may take fewer bytes; the caller sends the rest.
     */
    public boolean prepWritev(int fd, long iovecs, int count, long userData) {
        return prepRw(Liburing.IORING_OP_WRITEV, 0, fd, iovecs, count, 0, 0, 0, userData);
    }

    /** io_uring_prep_accept(): {@code addr}/{@code addrLenAddr} may be 0. */
    public boolean prepAccept(int fd, long addr, long addrLenAddr, int flags, long userData) {
        return prepRw(Liburing.IORING_OP_ACCEPT, 0, fd, addr, 0, addrLenAddr, flags, 0, userData);
    }

    /** io_uring_prep_poll_add(). */
    public boolean prepPollAdd(int fd, int pollMask, long userData) {
        return prepRw(Liburing.IORING_OP_POLL_ADD, 0, fd, 0, 0, 0, pollMask, 0, userData);
    }

    /** io_uring_prep_nop(). */
    public boolean prepNop(long userData) {
        return prepRw(Liburing.IORING_OP_NOP, 0, -1, 0, 0, 0, 0, 0, userData);
    }
}
