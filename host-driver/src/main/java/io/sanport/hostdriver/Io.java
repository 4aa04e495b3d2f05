package io.sanport.hostdriver;

import io.sanport.nvme.DsmRange;
import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import java.lang.foreign.MemorySegment;

/**
 * NVM I/O commands: Read, Write (FUA), Flush, Write Zeroes, Dataset Management deallocate, each handed to
 * the reactor's {@link LocalTransport} (nvmet {@code io-cmd-bdev.c} / {@code io-cmd-file.c}).
 * Every check happens before any data moves, so a refused write gets its completion without an R2T.
 */
final class Io {
    private static final System.Logger LOG = System.getLogger("sanport.target");
    private static final int DSM_MAX_LENGTH = DsmRange.MAX_RANGES * (int) DsmRange.SIZE;

    private Io() {}

    static int parse(Request r, Controller c) {
        int code = check(r, c);
        if (code == Status.SUCCESS && writes(r.opcode()) && r.ns.writeFailure() != null) {
            // a flush failed: acknowledged writes may be lost, and a later flush could succeed and hide it (Linux
            // reports a writeback error once), so nothing that writes or flushes may succeed until re-enabled
            r.dnr = true;
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_NSID;
            return Status.WRITE_FAULT;
        }
        return code;
    }

    private static boolean writes(int opcode) {
        return opcode == IoOpcode.WRITE || opcode == IoOpcode.FLUSH || opcode == IoOpcode.WRITE_ZEROES
                || opcode == IoOpcode.DSM;
    }

    private static int check(Request r, Controller c) {
        MemorySegment sqe = r.sqe;
        int opcode = r.opcode();
        Namespace ns = c.subsystem().namespace(SubmissionQueueEntry.nsid(sqe));
        if (ns == null) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_NSID;
            return Status.INVALID_NS;
        }
        r.ns = ns;
        int path = c.port().anaState(ns.anaGrpId()).ioStatus();
        if (path != Status.SUCCESS) {
            // inaccessible, persistent loss or in change through this port: SCT 3 without DNR, the host tries
            // another path (nvmet nvmet_check_ana_state)
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_NSID;
            return path;
        }
        switch (opcode) {
            case IoOpcode.READ, IoOpcode.WRITE -> {
                r.hostToController = opcode == IoOpcode.WRITE;
                long blocks = SubmissionQueueEntry.blocks(sqe);
                long length = blocks << ns.lbaShift();
                if (r.dataLength != length) {
                    r.errorLocation = (int) SubmissionQueueEntry.OFFSET_DPTR;
                    return Status.SGL_INVALID_DATA;
                }
                if (length > r.queue.target.maxTransfer()) {
                    r.errorLocation = (int) SubmissionQueueEntry.OFFSET_NLB;
                    return Status.INVALID_FIELD;
                }
                int code = range(r, ns, SubmissionQueueEntry.slba(sqe), blocks);
                if (code == Status.SUCCESS && r.hostToController && ns.readOnly()) {
                    r.errorLocation = (int) SubmissionQueueEntry.OFFSET_OPCODE;
                    return Status.NS_WRITE_PROTECTED;
                }
                return code;
            }
            case IoOpcode.FLUSH -> {
                return Fabrics.expect(r, 0);
            }
            case IoOpcode.WRITE_ZEROES -> {
                int code = Fabrics.expect(r, 0);
                if (code != Status.SUCCESS) {
                    return code;
                }
                if (ns.readOnly()) {
                    r.errorLocation = (int) SubmissionQueueEntry.OFFSET_OPCODE;
                    return Status.NS_WRITE_PROTECTED;
                }
                return range(r, ns, SubmissionQueueEntry.slba(sqe), SubmissionQueueEntry.blocks(sqe));
            }
            case IoOpcode.DSM -> {
                r.hostToController = true;
                long needed = SubmissionQueueEntry.dsmRanges(sqe) * DsmRange.SIZE;
                // Linux always sends a 4096-byte range buffer, whatever NR says
                if (r.dataLength < needed || r.dataLength > DSM_MAX_LENGTH) {
                    r.errorLocation = (int) SubmissionQueueEntry.OFFSET_DPTR;
                    return Status.SGL_INVALID_DATA;
                }
                if (ns.readOnly()) {
                    r.errorLocation = (int) SubmissionQueueEntry.OFFSET_OPCODE;
                    return Status.NS_WRITE_PROTECTED;
                }
                return Status.SUCCESS;
            }
            default -> {
                r.errorLocation = (int) SubmissionQueueEntry.OFFSET_OPCODE;
                return Status.INVALID_OPCODE;
            }
        }
    }

    /** SLBA + blocks within NSZE, without overflow: else LBA Out of Range, pointing at SLBA. */
    private static int range(Request r, Namespace ns, long slba, long blocks) {
        long nsze = ns.blocks();
        if (slba < 0 || slba >= nsze || blocks > nsze - slba) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_SLBA;
            return Status.LBA_RANGE;
        }
        return Status.SUCCESS;
    }

    static void execute(Request r, Controller c) {
        MemorySegment sqe = r.sqe;
        Namespace ns = r.ns;
        LocalTransport local = r.queue.local;
        int opcode = r.opcode();
        if (opcode == IoOpcode.DSM) {
            if ((SubmissionQueueEntry.cdw11(sqe) & SubmissionQueueEntry.DSM_AD) == 0) {
                r.queue.complete(r); // only deallocate does anything; the hints need nothing
                return;
            }
            r.step = 0;
            nextRange(r);
            return;
        }
        r.inDevice = true; // before the submit: a refused I/O completes from inside it
        switch (opcode) {
            case IoOpcode.READ -> local.read(r, ns, SubmissionQueueEntry.slba(sqe) << ns.lbaShift(), (int) r.dataLength,
                    r.buffer.address());
            case IoOpcode.WRITE -> local.write(r, ns, SubmissionQueueEntry.slba(sqe) << ns.lbaShift(), (int) r.dataLength,
                    r.buffer.address(), SubmissionQueueEntry.fua(sqe));
            case IoOpcode.FLUSH -> local.flush(r, ns);
            case IoOpcode.WRITE_ZEROES -> local.writeZeroes(r, ns, SubmissionQueueEntry.slba(sqe) << ns.lbaShift(),
                    (long) SubmissionQueueEntry.blocks(sqe) << ns.lbaShift());
            default -> throw new IllegalStateException("parse let opcode " + opcode + " through");
        }
    }

    /** Submits the next non-empty DSM range, or completes the command after the last one. */
    private static void nextRange(Request r) {
        int ranges = SubmissionQueueEntry.dsmRanges(r.sqe);
        Namespace ns = r.ns;
        while (r.step < ranges) {
            MemorySegment range = r.buffer.asSlice(r.step * DsmRange.SIZE, DsmRange.SIZE); // DSM only, not the read/write path
            r.step++;
            long blocks = DsmRange.nlb(range);
            long slba = DsmRange.slba(range);
            if (blocks == 0) {
                continue;
            }
            if (range(r, ns, slba, blocks) != Status.SUCCESS) {
                r.status = Status.LBA_RANGE;
                r.queue.complete(r);
                return;
            }
            r.inDevice = true;
            r.queue.local.discard(r, ns, slba << ns.lbaShift(), blocks << ns.lbaShift());
            return;
        }
        r.queue.complete(r);
    }

    /** Whether a failed flush or FUA write with {@code code} may have lost acknowledged data (EIO, ENOSPC, media). */
    static boolean lostData(int code) {
        return code == Status.WRITE_FAULT || code == Status.CAP_EXCEEDED || code == Status.INTERNAL
                || Status.sct(Status.word(code)) == Status.SCT_MEDIA;
    }

    /**
     * A flush or FUA write failed: the host must not retry it into a success (DNR), and the namespace refuses
     * writes and flushes from now on; said once, in words, naming the device.
     */
    private static void durabilityLost(Request r, Controller c, int code) {
        r.dnr = true;
        Namespace ns = r.ns;
        String what = (r.opcode() == IoOpcode.FLUSH ? "a flush" : "a FUA write") + " failed on " + ns.device().name()
                + " (" + Status.describe(Status.word(code, true)) + ")";
        if (ns.failWrites(what)) {
            LOG.log(System.Logger.Level.ERROR, ns + (c != null ? " of " + c.subsystem() : "") + ": " + what
                    + "; writes acknowledged before it may not be on the device. Refusing writes and flushes to it"
                    + " until the namespace is disabled and enabled again");
        }
    }

    /** The device finished {@code r}'s I/O with {@code code}: the next DSM range or the completion. */
    static void ioComplete(Request r, Controller c, int code) {
        r.inDevice = false;
        int opcode = r.opcode();
        if (code != Status.SUCCESS) {
            r.status = code;
            if (code == Status.LBA_RANGE) {
                r.errorLocation = (int) SubmissionQueueEntry.OFFSET_SLBA;
            }
            if ((opcode == IoOpcode.FLUSH || opcode == IoOpcode.WRITE && SubmissionQueueEntry.fua(r.sqe)) && lostData(code)) {
                durabilityLost(r, c, code);
            }
        } // a success is counted with the command's completion (QueuePair.count), once for all the statistics
        if (code == Status.SUCCESS && opcode == IoOpcode.DSM && !r.queue.ending()) {
            nextRange(r);
            return;
        }
        r.queue.complete(r);
    }
}
