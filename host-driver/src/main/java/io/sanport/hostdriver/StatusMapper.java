package io.sanport.hostdriver;

import io.sanport.bindings.Errno;
import io.sanport.iop.IoRequest;
import io.sanport.nvme.Status;

/**
 * The one place a device error becomes an NVMe status (nvmet {@code errno_to_nvme_status} and
 * {@code blk_to_nvme_status}). A retry cannot help a refused or malformed request, so those carry DNR;
 * media errors may clear on a retry or another path, so those do not ({@link Status#word}).
 */
public final class StatusMapper {
    private StatusMapper() {}

    /** The status of a request the reactor refused before it reached the device. */
    public static int fromRefusal(IoRequest.Refusal refusal) {
        return switch (refusal) {
            case NONE -> Status.SUCCESS;
            case OUT_OF_RANGE -> Status.LBA_RANGE;
            case READ_ONLY -> Status.NS_WRITE_PROTECTED;
            case NOT_SUPPORTED -> Status.INVALID_OPCODE;
            case NO_SUCH_DEVICE -> Status.INVALID_NS;
            case SHUT_DOWN -> Status.NS_NOT_READY;
            case MISALIGNED_OFFSET, MISALIGNED_LENGTH, MISALIGNED_BUFFER -> Status.INVALID_FIELD;
        };
    }

    /** The status of an I/O that failed with {@code -result} = errno; {@code write} picks Write Fault vs Read Error. */
    public static int fromErrno(int errno, boolean write) {
        return switch (errno) {
            case 0 -> Status.SUCCESS;
            case Errno.ENOSPC, Errno.EFBIG -> Status.CAP_EXCEEDED;
            case Errno.EROFS, Errno.EPERM, Errno.EACCES -> Status.NS_WRITE_PROTECTED;
            case Errno.EOPNOTSUPP, Errno.ENOSYS -> Status.INVALID_OPCODE;
            case Errno.EINVAL -> Status.INVALID_FIELD;
            case Errno.ENODATA -> Status.ACCESS_DENIED;
            case Errno.EILSEQ -> Status.COMPARE_FAILED;
            case Errno.ECANCELED, Errno.EINTR, Errno.EAGAIN, Errno.EBUSY -> Status.ABORT_REQ;
            case Errno.ENODEV -> Status.NS_NOT_READY;
            case Errno.EIO -> write ? Status.WRITE_FAULT : Status.READ_ERROR;
            default -> Status.INTERNAL;
        };
    }

    /** The status of a completed I/O: refusal first, then the device's own NVMe status, then errno, then a short transfer. */
    public static int of(IoRequest io) {
        if (io.refusal() != IoRequest.Refusal.NONE) {
            return fromRefusal(io.refusal());
        }
        if (io.nvmeStatus() != 0) {
            return io.nvmeStatus() & 0x7FF; // a passthrough device answered in NVMe already: pass SCT/SC through
        }
        int res = io.result();
        if (res < 0) {
            return fromErrno(-res, io.op() != IoRequest.READ);
        }
        if (io.op() <= IoRequest.WRITE && res != io.length()) {
            return io.op() == IoRequest.WRITE ? Status.WRITE_FAULT : Status.READ_ERROR;
        }
        return Status.SUCCESS;
    }
}
