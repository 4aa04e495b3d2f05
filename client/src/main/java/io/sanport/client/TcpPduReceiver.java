package io.sanport.client;

import io.sanport.nvme.CompletionQueueEntry;
import io.sanport.nvme.Status;
import io.sanport.nvme.tcp.C2HData;
import io.sanport.nvme.tcp.CapsuleResponse;
import io.sanport.nvme.tcp.Crc32c;
import io.sanport.nvme.tcp.PduHeader;
import io.sanport.nvme.tcp.R2T;
import io.sanport.nvme.tcp.TermReq;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The receive side of an {@link NvmeTcpQueue}, run by its reader thread alone: parses the controller's PDUs
 * (CapsuleResp, C2HData, R2T, C2HTermReq) and checks their digests.
 * <p>
 * One read(2) fills a per-queue staging buffer with whatever the socket has, and every complete PDU in it is handled
 * before the next read; a header cut by the end of a read is completed by the next. C2HData bytes already staged are
 * copied to the command's buffer ({@link #payloadBytesCopied}); when at least {@link #DIRECT_READ_MIN} bytes of a
 * payload are still on the wire they are read straight into the buffer, with the staging buffer as a second iovec to
 * pick up the next header in the same readv(2). The receiver completes commands (CapsuleResp, or C2HData with
 * SUCCESS) and has the {@link TcpPduSender} answer R2Ts with H2CData. No allocation per PDU when digests are off;
 * with a data digest, CRC32C needs one {@code ByteBuffer} view of the data per PDU (the JDK's CRC32C reads only
 * arrays and buffers).
 */
final class TcpPduReceiver {
    /** Staging buffer for received PDUs: at QD 32 it holds about 15 4-KiB C2HData PDUs per read(2). */
    static final int STAGING_SIZE = 64 << 10;
    /** Payload still on the wire from this size on is read straight into the command's buffer. */
    static final int DIRECT_READ_MIN = 16 << 10;
    /** The staging bytes a direct readv(2) may also fill: the next PDU headers, little of the next payload. */
    private static final int DIRECT_READ_TAIL = 4 << 10;

    private final NvmeTcpQueue queue;
    private final TcpSocket socket;
    private final TcpPduSender sender;
    private final CommandSlot[] slots;
    private final boolean headerDigest;
    private final boolean dataDigest;
    private final int digestLength;

    private final MemorySegment staging;
    /** Unparsed received bytes are staging[rxHead, rxTail). */
    private long rxHead;
    private long rxTail;
    private final MemorySegment rxIov;
    /** The header of the PDU being handled, copied out of staging so the PDU accessors read it at offset 0. */
    private final MemorySegment rx;
    private final ByteBuffer rxView;
    private final MemorySegment rxState;
    private final Crc32c crc = new Crc32c();
    /** C2HData payload bytes copied out of staging (the rest went straight into command buffers). */
    private volatile long payloadBytesCopied;
    /** read(2)/readv(2) calls, for tests. */
    private volatile long receiveCalls;

    TcpPduReceiver(NvmeTcpQueue queue, TcpSocket socket, TcpPduSender sender, Arena arena, boolean headerDigest,
                   boolean dataDigest) {
        this.queue = queue;
        this.socket = socket;
        this.sender = sender;
        this.slots = queue.slots;
        this.headerDigest = headerDigest;
        this.dataDigest = dataDigest;
        this.digestLength = headerDigest ? PduHeader.DIGEST_LENGTH : 0;
        staging = arena.allocate(STAGING_SIZE, 64);
        rxIov = arena.allocate(TcpSocket.IOVEC_SIZE * 2, 8);
        rx = arena.allocate(TermReq.MAX_PLEN + PduHeader.DIGEST_LENGTH, 8);
        rxView = rx.asByteBuffer();
        rxState = arena.allocate(io.sanport.bindings.Native.CAPTURE_LAYOUT);
    }

    long payloadBytesCopied() {
        return payloadBytesCopied;
    }

    long receiveCalls() {
        return receiveCalls;
    }

    /** Receives and handles the next PDU; throws when the queue must end (connection lost, protocol error). */
    void receivePdu() throws IOException {
        stage((int) PduHeader.SIZE);
        int type = Byte.toUnsignedInt(staging.get(U8, rxHead + PduHeader.OFFSET_TYPE));
        int flags = Byte.toUnsignedInt(staging.get(U8, rxHead + PduHeader.OFFSET_FLAGS));
        int hlen = Byte.toUnsignedInt(staging.get(U8, rxHead + PduHeader.OFFSET_HLEN));
        long plen = Integer.toUnsignedLong(staging.get(U32, rxHead + PduHeader.OFFSET_PLEN));
        if (type == PduHeader.TYPE_C2H_TERM_REQ) {
            if (hlen != TermReq.HLEN || plen < TermReq.HLEN || plen > TermReq.MAX_PLEN) {
                throw protocol("C2HTermReq with HLEN " + hlen + " PLEN " + plen);
            }
            takeHeader((int) plen);
            throw new NvmeTransportException("controller " + socket.peer() + " terminated queue " + queue.qid + ": "
                    + termReason(TermReq.fes(rx)) + " (FES 0x" + Integer.toHexString(TermReq.fes(rx)) + ", FEI 0x"
                    + Integer.toHexString(TermReq.fei(rx)) + ")");
        }
        int expected = PduHeader.expectedHlen(type);
        if (type != PduHeader.TYPE_CAPSULE_RESP && type != PduHeader.TYPE_C2H_DATA && type != PduHeader.TYPE_R2T) {
            throw protocol("unexpected PDU type 0x" + Integer.toHexString(type));
        }
        if (hlen != expected) {
            throw protocol("PDU type 0x" + Integer.toHexString(type) + " with HLEN " + hlen + ", expected " + expected);
        }
        if ((flags & ~PduHeader.allowedFlags(type)) != 0) {
            throw protocol("PDU type 0x" + Integer.toHexString(type) + " with flags 0x" + Integer.toHexString(flags));
        }
        takeHeader(hlen + digestLength);
        if (headerDigest) {
            if ((flags & PduHeader.FLAG_HDGSTF) == 0) {
                throw protocol("header digest negotiated but HDGSTF clear on PDU type 0x" + Integer.toHexString(type));
            }
            int want = crc.digest(rxView, 0, hlen);
            int got = rx.get(U32, hlen);
            if (want != got) {
                throw new NvmeTransportException("queue " + queue.qid + " of " + socket.peer()
                        + ": header digest error on PDU type 0x" + Integer.toHexString(type) + " (received 0x"
                        + Integer.toHexString(got) + ", computed 0x" + Integer.toHexString(want) + ")");
            }
        }
        switch (type) {
            case PduHeader.TYPE_CAPSULE_RESP -> {
                if (plen != hlen + digestLength) {
                    throw protocol("CapsuleResp with PLEN " + plen);
                }
                int cid = Short.toUnsignedInt(rx.get(U16, CapsuleResponse.OFFSET_CQE + CompletionQueueEntry.OFFSET_CID));
                CommandSlot slot = inFlight(cid, "CapsuleResp");
                int status = Short.toUnsignedInt(rx.get(U16, CapsuleResponse.OFFSET_CQE + CompletionQueueEntry.OFFSET_STATUS))
                        & ~Status.PHASE;
                if (Status.isSuccess(status) && slot.dataStatus != 0) {
                    status = slot.dataStatus;
                }
                complete(slot, status, rx.get(U64, CapsuleResponse.OFFSET_CQE + CompletionQueueEntry.OFFSET_DW0));
            }
            case PduHeader.TYPE_C2H_DATA -> receiveData(flags, plen);
            case PduHeader.TYPE_R2T -> receiveR2T();
            default -> throw protocol("unexpected PDU type 0x" + Integer.toHexString(type));
        }
    }

    /** Moves the next {@code length} bytes (a PDU header and its digest) from staging to {@link #rx}. */
    private void takeHeader(int length) throws IOException {
        stage(length);
        MemorySegment.copy(staging, rxHead, rx, 0, length);
        rxHead += length;
    }

    private void receiveData(int flags, long plen) throws IOException {
        int cid = C2HData.cccid(rx);
        CommandSlot slot = inFlight(cid, "C2HData");
        long offset = C2HData.datao(rx);
        long length = C2HData.datal(rx);
        int pdo = PduHeader.pdo(rx);
        boolean digest = (flags & PduHeader.FLAG_DDGSTF) != 0;
        if (dataDigest != digest) {
            throw protocol("C2HData DDGSTF " + digest + " but data digest " + (dataDigest ? "" : "not ") + "negotiated");
        }
        long headerEnd = C2HData.HLEN + digestLength;
        if (slot.hostToController || length == 0 || offset != slot.received || offset + length > slot.dataLength
                || pdo < headerEnd || plen != pdo + length + (digest ? PduHeader.DIGEST_LENGTH : 0)) {
            throw protocol("C2HData for cid " + cid + " (" + slot.name + ", " + slot.dataLength + " bytes, "
                    + slot.received + " received) with DATAO " + offset + " DATAL " + length + " PDO " + pdo + " PLEN " + plen);
        }
        if (pdo > headerEnd) {
            int pad = (int) (pdo - headerEnd); // < 256: PDO is one byte
            stage(pad);
            rxHead += pad;
        }
        receivePayload(slot, offset, length);
        slot.received += length;
        if (digest) {
            stage(PduHeader.DIGEST_LENGTH);
            int got = staging.get(U32, rxHead);
            rxHead += PduHeader.DIGEST_LENGTH;
            if (NvmeTcpQueue.dataDigest(crc, slot.dataAddress + offset, length) != got) {
                // like the Linux host: the command fails with Data Transfer Error, the connection lives on
                slot.dataStatus = Status.word(Status.DATA_XFER_ERROR, false);
            }
        }
        if ((flags & PduHeader.FLAG_SUCCESS) != 0) {
            if ((flags & PduHeader.FLAG_LAST_PDU) == 0) {
                throw protocol("C2HData with SUCCESS but not LAST_PDU");
            }
            complete(slot, slot.dataStatus, 0);
        }
    }

    /**
     * Puts {@code length} payload bytes at {@code offset} of the command's buffer: copied while they are in
     * staging, read in place once {@link #DIRECT_READ_MIN} or more are still to come.
     */
    private void receivePayload(CommandSlot slot, long offset, long length) throws IOException {
        while (length > 0) {
            long staged = rxTail - rxHead;
            if (staged == 0) {
                if (length >= DIRECT_READ_MIN) {
                    readDirect(slot.dataAddress + offset, length);
                    return;
                }
                fill();
                staged = rxTail - rxHead;
            }
            long n = Math.min(staged, length);
            MemorySegment.copy(staging, rxHead, slot.data, offset, n);
            rxHead += n;
            offset += n;
            length -= n;
            payloadBytesCopied = payloadBytesCopied + n;
        }
    }

    /**
     * Reads exactly {@code length} bytes to {@code address} (the staging buffer is empty), with the start of the
     * staging buffer as a second iovec so the readv(2) that completes the payload also brings the next header.
     */
    private void readDirect(long address, long length) throws IOException {
        sender.flush();
        rxHead = 0;
        rxTail = 0;
        rxIov.set(JAVA_LONG, TcpSocket.IOVEC_SIZE, staging.address());
        rxIov.set(JAVA_LONG, TcpSocket.IOVEC_SIZE + 8, DIRECT_READ_TAIL);
        while (length > 0) {
            rxIov.set(JAVA_LONG, 0, address);
            rxIov.set(JAVA_LONG, 8, length);
            receiveCalls = receiveCalls + 1;
            long n = socket.readv(rxIov, 2, rxState);
            if (n > length) {
                rxTail = n - length;
                n = length;
            }
            address += n;
            length -= n;
        }
    }

    /** Checks an R2T against its command (a write whose data was not in the capsule) and has it answered. */
    private void receiveR2T() throws IOException {
        int cid = R2T.cccid(rx);
        CommandSlot slot = inFlight(cid, "R2T");
        long offset = R2T.r2to(rx);
        long length = R2T.r2tl(rx);
        int ttag = R2T.ttag(rx);
        // R2TO and R2TL are 32-bit: their sum cannot overflow a long
        if (!slot.hostToController || slot.inCapsule || length == 0 || offset + length > slot.dataLength) {
            throw protocol("R2T for cid " + cid + " (" + slot.name + ", " + slot.dataLength + " bytes"
                    + (slot.inCapsule ? " in capsule" : "") + ") with R2TO " + offset + " R2TL " + length);
        }
        if (slot.h2cListed()) {
            // MAXR2T 0: one R2T at a time, and the data of this one is not even sent yet
            throw protocol("R2T for cid " + cid + " (" + slot.name + ") before the data of its previous R2T was sent");
        }
        sender.listR2T(slot, ttag, offset, length);
    }

    /**
     * Makes at least {@code n} unparsed bytes (a header, a digest; far less than the staging buffer) available in
     * staging, reading as often as it takes.
     */
    private void stage(int n) throws IOException {
        while (rxTail - rxHead < n) {
            fill();
        }
    }

    /**
     * One read(2) into the staging buffer of whatever the socket has. The reader's own submissions go out first:
     * it is about to block, and their completions are what it will wait for.
     */
    private void fill() throws IOException {
        sender.flush();
        long unparsed = rxTail - rxHead;
        if (rxHead > 0) {
            // only a header cut by the last read is left (payload is consumed at once): a few bytes to move
            if (unparsed > 0) {
                MemorySegment.copy(staging, rxHead, staging, 0, unparsed);
            }
            rxHead = 0;
            rxTail = unparsed;
        }
        receiveCalls = receiveCalls + 1;
        rxTail += socket.read(staging.address() + rxTail, STAGING_SIZE - rxTail, rxState);
    }

    private void complete(CommandSlot slot, int statusWord, long result) throws NvmeTransportException {
        if (slot.h2cListed()) {
            // its caller could reuse the buffer the listed H2CData is still to be sent from
            throw protocol(slot.name + " (cid " + slot.cid + ") completed before the data its R2T asked for was sent");
        }
        queue.complete(slot, CommandSlot.IN_FLIGHT, statusWord, result, null);
    }

    private CommandSlot inFlight(int cid, String pdu) throws NvmeTransportException {
        int index = cid & CommandSlot.INDEX_MASK;
        CommandSlot slot = index < slots.length ? slots[index] : null;
        if (slot == null || slot.cid != cid || slot.state() != CommandSlot.IN_FLIGHT) {
            throw protocol(pdu + " for cid " + cid + ", which is not in flight");
        }
        return slot;
    }

    private NvmeTransportException protocol(String what) {
        return new NvmeTransportException("queue " + queue.qid + " of " + socket.peer() + ": protocol error: " + what);
    }

    private static String termReason(int fes) {
        return switch (fes) {
            case TermReq.FES_INVALID_HEADER_FIELD -> "invalid PDU header field";
            case TermReq.FES_PDU_SEQUENCE_ERROR -> "PDU sequence error";
            case TermReq.FES_HEADER_DIGEST_ERROR -> "header digest error";
            case TermReq.FES_DATA_OUT_OF_RANGE -> "data transfer out of range";
            case TermReq.FES_DATA_LIMIT_EXCEEDED -> "data transfer limit exceeded";
            case TermReq.FES_UNSUPPORTED_PARAMETER -> "unsupported parameter";
            default -> "unknown reason";
        };
    }
}
