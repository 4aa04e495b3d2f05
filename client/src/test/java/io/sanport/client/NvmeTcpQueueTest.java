package io.sanport.client;

import io.sanport.nvme.IoOpcode;
import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.tcp.PduHeader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PDU framing of {@link NvmeTcpQueue} against a scripted peer on a local socket: each test plays the controller
 * side byte by byte, including the faults (bad digests, a connection dropped mid-transfer).
 */
class NvmeTcpQueueTest {
    private final Arena arena = Arena.ofShared();
    private ServerSocket server;
    private Thread peerThread;
    private final AtomicReference<Throwable> peerError = new AtomicReference<>();

    interface Script {
        void run(Peer peer) throws Exception;
    }

    /** The controller side: reads what the host sends and answers with hand-built PDUs. */
    static final class Peer {
        final Socket socket;
        final DataInputStream in;
        final OutputStream out;
        boolean hdgst;
        boolean ddgst;

        Peer(Socket s) throws IOException {
            socket = s;
            s.setTcpNoDelay(true); // a split PDU must reach the host as two segments
            in = new DataInputStream(s.getInputStream());
            out = s.getOutputStream();
        }

        byte[] read(int n) throws IOException {
            byte[] b = new byte[n];
            in.readFully(b);
            return b;
        }

        /** Reads the ICReq and answers with the digests it asked for (or {@code dgstOverride}). */
        void handshake(long maxh2c, int dgstOverride) throws IOException {
            ByteBuffer req = le(read(128));
            assertEquals(PduHeader.TYPE_IC_REQ, req.get(0));
            assertEquals(128, req.getInt(4));
            int dgst = req.get(11);
            hdgst = (dgst & 1) != 0;
            ddgst = (dgst & 2) != 0;
            ByteBuffer resp = le(new byte[128]);
            resp.put(0, (byte) PduHeader.TYPE_IC_RESP).put(2, (byte) 128).putInt(4, 128);
            resp.put(11, (byte) (dgstOverride >= 0 ? dgstOverride : dgst)).putInt(12, (int) maxh2c);
            out.write(resp.array());
        }

        /** Reads a CapsuleCmd (and its in-capsule data); returns the SQE. */
        ByteBuffer capsule() throws IOException {
            ByteBuffer h = le(read(8));
            assertEquals(PduHeader.TYPE_CAPSULE_CMD, h.get(0));
            int plen = h.getInt(4);
            byte[] rest = read(plen - 8);
            ByteBuffer all = le(new byte[plen]);
            all.put(0, h.array()).put(8, rest);
            if (hdgst) {
                assertEquals(crc(all.array(), 0, 72), all.getInt(72), "capsule header digest");
            }
            return le(java.util.Arrays.copyOfRange(all.array(), 8, 72));
        }

        void sendResponse(int cid, int status, boolean badDigest) throws IOException {
            out.write(response(cid, status, badDigest));
        }

        byte[] response(int cid, int status, boolean badDigest) {
            ByteBuffer p = le(new byte[24 + (hdgst ? 4 : 0)]);
            p.put(0, (byte) PduHeader.TYPE_CAPSULE_RESP).put(1, (byte) (hdgst ? 1 : 0)).put(2, (byte) 24)
                    .putInt(4, p.capacity());
            p.putShort(8 + 12, (short) cid).putShort(8 + 14, (short) status);
            if (hdgst) {
                p.putInt(24, crc(p.array(), 0, 24) ^ (badDigest ? 1 : 0));
            }
            return p.array();
        }

        void sendC2H(int cid, int offset, byte[] data, int from, int len, int extraFlags, boolean badDataDigest) throws IOException {
            out.write(c2h(cid, offset, data, from, len, extraFlags, badDataDigest));
        }

        byte[] c2h(int cid, int offset, byte[] data, int from, int len, int extraFlags, boolean badDataDigest) {
            int hd = hdgst ? 4 : 0;
            int dd = ddgst ? 4 : 0;
            ByteBuffer p = le(new byte[24 + hd + len + dd]);
            int flags = (hdgst ? 1 : 0) | (ddgst ? 2 : 0) | extraFlags;
            p.put(0, (byte) PduHeader.TYPE_C2H_DATA).put(1, (byte) flags).put(2, (byte) 24).put(3, (byte) (24 + hd))
                    .putInt(4, p.capacity());
            p.putShort(8, (short) cid).putInt(12, offset).putInt(16, len);
            if (hdgst) {
                p.putInt(24, crc(p.array(), 0, 24));
            }
            p.put(24 + hd, data, from, len);
            if (ddgst) {
                p.putInt(24 + hd + len, crc(data, from, len) ^ (badDataDigest ? 1 : 0));
            }
            return p.array();
        }

        void sendR2T(int cid, int ttag, int offset, int len) throws IOException {
            ByteBuffer p = le(new byte[24 + (hdgst ? 4 : 0)]);
            p.put(0, (byte) PduHeader.TYPE_R2T).put(1, (byte) (hdgst ? 1 : 0)).put(2, (byte) 24).putInt(4, p.capacity());
            p.putShort(8, (short) cid).putShort(10, (short) ttag).putInt(12, offset).putInt(16, len);
            if (hdgst) {
                p.putInt(24, crc(p.array(), 0, 24));
            }
            out.write(p.array());
        }

        /** Reads one H2CData PDU, checks its digests, copies its data to {@code into}; returns its flags. */
        int receiveH2C(int cid, int ttag, byte[] into, int maxData) throws IOException {
            ByteBuffer h = le(read(24 + (hdgst ? 4 : 0)));
            assertEquals(PduHeader.TYPE_H2C_DATA, h.get(0));
            if (hdgst) {
                assertEquals(crc(h.array(), 0, 24), h.getInt(24), "H2C header digest");
            }
            assertEquals(cid, Short.toUnsignedInt(h.getShort(8)));
            assertEquals(ttag, Short.toUnsignedInt(h.getShort(10)));
            int offset = h.getInt(12);
            int len = h.getInt(16);
            assertTrue(len <= maxData, "DATAL " + len + " above MAXH2CDATA " + maxData);
            in.readFully(into, offset, len);
            if (ddgst) {
                assertEquals(crc(into, offset, len), le(read(4)).getInt(0), "H2C data digest");
            }
            return h.get(1);
        }
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    private InetSocketAddress peer(Script script) throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        peerThread = Thread.ofPlatform().daemon().start(() -> {
            try (Socket s = server.accept()) {
                script.run(new Peer(s));
            } catch (Throwable t) {
                peerError.set(t);
            }
        });
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (peerThread != null) {
            peerThread.join(5000);
        }
        if (server != null) {
            server.close();
        }
        arena.close();
    }

    private CommandSlot read(NvmeTcpQueue q, MemorySegment buf) throws IOException {
        CommandSlot slot = q.acquire("Read");
        SubmissionQueueEntry.opcode(slot.sqe, IoOpcode.READ);
        SubmissionQueueEntry.nsid(slot.sqe, 1);
        SubmissionQueueEntry.nlb(slot.sqe, (int) (buf.byteSize() / 512 - 1));
        slot.data(buf, false);
        return slot;
    }

    private CommandSlot write(NvmeTcpQueue q, MemorySegment buf) throws IOException {
        CommandSlot slot = q.acquire("Write");
        SubmissionQueueEntry.opcode(slot.sqe, IoOpcode.WRITE);
        SubmissionQueueEntry.nsid(slot.sqe, 1);
        SubmissionQueueEntry.nlb(slot.sqe, (int) (buf.byteSize() / 512 - 1));
        slot.data(buf, true);
        return slot;
    }

    @Test
    void readInPiecesWithSuccessFlagAndWriteByR2TWithDigests() throws Exception {
        byte[] readData = new byte[8192];
        new java.util.Random(1).nextBytes(readData);
        byte[] written = new byte[32768];
        InetSocketAddress addr = peer(p -> {
            p.handshake(8192, -1);
            int cid = Short.toUnsignedInt(p.capsule().getShort(2));
            p.sendC2H(cid, 0, readData, 0, 4096, 0, false);
            p.sendC2H(cid, 4096, readData, 4096, 4096, PduHeader.FLAG_LAST_PDU | PduHeader.FLAG_SUCCESS, false);
            ByteBuffer sqe = p.capsule();
            cid = Short.toUnsignedInt(sqe.getShort(2));
            assertEquals(0x5A, sqe.get(24 + 15), "large write: transport SGL, data by R2T");
            assertEquals(32768, sqe.getInt(24 + 8));
            p.sendR2T(cid, 0x77, 0, 32768);
            int flags;
            int pdus = 0;
            do {
                flags = p.receiveH2C(cid, 0x77, written, 8192);
                pdus++;
            } while ((flags & PduHeader.FLAG_LAST_PDU) == 0);
            assertEquals(4, pdus, "32 KiB in MAXH2CDATA 8 KiB pieces");
            p.sendResponse(cid, 0, false);
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, true, true, 5000)) {
            q.inCapsuleMax(4096);
            MemorySegment in = arena.allocate(8192, 4096);
            q.execute(read(q, in), 5000);
            assertArrayEquals(readData, in.toArray(ValueLayout.JAVA_BYTE));

            MemorySegment out = arena.allocate(32768, 4096);
            NvmeTcpQueueTestSupport.fill(out);
            q.execute(write(q, out), 5000);
            peerThread.join(5000);
            assertNull(peerError.get(), () -> "peer: " + peerError.get());
            assertArrayEquals(out.toArray(ValueLayout.JAVA_BYTE), written);
        }
    }

    @Test
    void inCapsuleWriteCarriesDataDigest() throws Exception {
        AtomicReference<byte[]> seen = new AtomicReference<>();
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            ByteBuffer h = le(p.read(8));
            int plen = h.getInt(4);
            byte[] rest = p.read(plen - 8);
            assertEquals(72 + 4, Byte.toUnsignedInt(h.get(3)), "PDO after header and header digest");
            assertEquals(PduHeader.FLAG_HDGSTF | PduHeader.FLAG_DDGSTF, h.get(1));
            byte[] data = java.util.Arrays.copyOfRange(rest, 72 + 4 - 8, plen - 8 - 4);
            assertEquals(crc(data, 0, data.length), le(rest).getInt(plen - 8 - 4), "in-capsule data digest");
            seen.set(data);
            p.sendResponse(Short.toUnsignedInt(le(rest).getShort(2)), 0, false);
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, true, true, 5000)) {
            q.inCapsuleMax(8192);
            MemorySegment out = arena.allocate(4096, 4096);
            NvmeTcpQueueTestSupport.fill(out);
            q.execute(write(q, out), 5000);
            assertArrayEquals(out.toArray(ValueLayout.JAVA_BYTE), seen.get());
        }
    }

    @Test
    void badDataDigestFailsOnlyThatCommand() throws Exception {
        byte[] data = new byte[4096];
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            int cid = Short.toUnsignedInt(p.capsule().getShort(2));
            p.sendC2H(cid, 0, data, 0, 4096, PduHeader.FLAG_LAST_PDU, true);
            p.sendResponse(cid, 0, false);
            cid = Short.toUnsignedInt(p.capsule().getShort(2));
            p.sendC2H(cid, 0, data, 0, 4096, PduHeader.FLAG_LAST_PDU, false);
            p.sendResponse(cid, 0, false);
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, false, true, 5000)) {
            MemorySegment in = arena.allocate(4096, 4096);
            NvmeException e = assertThrows(NvmeException.class, () -> q.execute(read(q, in), 5000));
            assertEquals(Status.DATA_XFER_ERROR, e.statusCode());
            assertTrue(e.getMessage().contains("Data Transfer Error"), e.getMessage());
            q.execute(read(q, in), 5000); // the connection lives on
        }
    }

    @Test
    void badHeaderDigestEndsTheQueue() throws Exception {
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            int cid = Short.toUnsignedInt(p.capsule().getShort(2));
            p.sendResponse(cid, 0, true);
            p.in.read(); // until the host closes
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, true, false, 5000)) {
            MemorySegment in = arena.allocate(4096, 4096);
            NvmeTransportException e = assertThrows(NvmeTransportException.class, () -> q.execute(read(q, in), 5000));
            assertTrue(e.getMessage().contains("header digest error"), e.getMessage());
            assertTrue(q.isFailed());
            NvmeTransportException again = assertThrows(NvmeTransportException.class, () -> q.execute(read(q, in), 5000));
            assertTrue(again.getMessage().contains("header digest error"), again.getMessage());
        }
    }

    @Test
    void connectionDropMidReadFailsEveryCommandInFlight() throws Exception {
        byte[] data = new byte[8192];
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            int first = Short.toUnsignedInt(p.capsule().getShort(2));
            p.capsule();
            p.capsule();
            // half of the first read's data, then the connection goes away
            ByteBuffer h = le(new byte[24]);
            h.put(0, (byte) PduHeader.TYPE_C2H_DATA).put(1, (byte) PduHeader.FLAG_LAST_PDU).put(2, (byte) 24)
                    .put(3, (byte) 24).putInt(4, 24 + 8192).putShort(8, (short) first).putInt(16, 8192);
            p.out.write(h.array());
            p.out.write(data, 0, 4096);
            p.out.flush();
            p.socket.close();
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, false, false, 5000)) {
            CompletableFuture<?>[] results = new CompletableFuture<?>[3];
            for (int i = 0; i < 3; i++) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                q.submit(read(q, arena.allocate(8192, 4096)), RemoteController.future("Read", f));
                results[i] = f;
            }
            for (CompletableFuture<?> f : results) {
                Throwable t = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> f.get(5, TimeUnit.SECONDS)).getCause();
                assertTrue(t instanceof NvmeTransportException, t.toString());
                assertTrue(t.getMessage().contains("lost") && t.getMessage().contains("closed by"), t.getMessage());
            }
            assertTrue(q.isFailed());
            // the slots came back: all 4 can be taken again, and a new command fails at once
            NvmeTransportException e = assertThrows(NvmeTransportException.class,
                    () -> q.execute(read(q, arena.allocate(4096, 4096)), 5000));
            assertNotNull(e.getMessage());
        }
    }

    @Test
    void icrespWithOtherDigestsIsRefused() throws Exception {
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, 0);
            p.in.read();
        });
        NvmeTransportException e = assertThrows(NvmeTransportException.class,
                () -> NvmeTcpQueue.open(addr, 0, 4, true, true, 5000));
        assertTrue(e.getMessage().contains("asked for digests 0x3"), e.getMessage());
    }

    @Test
    void heapBuffersAreRefused() throws Exception {
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            p.in.read();
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 2, false, false, 5000)) {
            CommandSlot slot = q.acquire("Read");
            assertThrows(IllegalArgumentException.class, () -> slot.data(MemorySegment.ofArray(new byte[512]), false));
            q.cancel(slot);
            q.cancel(q.acquire("x")); // both slots are free again
            q.cancel(q.acquire("y"));
        }
    }

    // ---- batched receive and send ----

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    @Test
    void r2tIsAnsweredAfterTheCompletionsReadWithItAndWithTheirResubmissionsInOneSendmsg() throws Exception {
        byte[] written = new byte[32768];
        byte[] readData = new byte[512];
        new java.util.Random(3).nextBytes(readData);
        java.util.concurrent.CountDownLatch capsulesRead = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        InetSocketAddress addr = peer(p -> {
            p.handshake(8192, -1);
            int write = Short.toUnsignedInt(p.capsule().getShort(2));
            int read = Short.toUnsignedInt(p.capsule().getShort(2));
            capsulesRead.countDown();
            assertTrue(go.await(5, TimeUnit.SECONDS));
            // the R2T of the write and the read's data in one segment: the reader runs the read's callback before
            // it sends the write's data
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            ByteBuffer r2t = le(new byte[24]);
            r2t.put(0, (byte) PduHeader.TYPE_R2T).put(2, (byte) 24).putInt(4, 24);
            r2t.putShort(8, (short) write).putShort(10, (short) 5).putInt(12, 0).putInt(16, 32768);
            burst.writeBytes(r2t.array());
            burst.writeBytes(p.c2h(read, 0, readData, 0, 512, PduHeader.FLAG_LAST_PDU | PduHeader.FLAG_SUCCESS, false));
            p.out.write(burst.toByteArray());
            int flush = Short.toUnsignedInt(p.capsule().getShort(2)); // the callback's, first: capsules lead
            int pdus = 0;
            int flags;
            do {
                flags = p.receiveH2C(write, 5, written, 8192);
                pdus++;
            } while ((flags & PduHeader.FLAG_LAST_PDU) == 0);
            assertEquals(4, pdus);
            p.sendResponse(flush, 0, false);
            p.sendResponse(write, 0, false);
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, false, false, 5000)) {
            q.inCapsuleMax(4096);
            MemorySegment out = arena.allocate(32768, 4096);
            NvmeTcpQueueTestSupport.fill(out);
            MemorySegment in = arena.allocate(512, 4096);
            CompletableFuture<Void> wrote = new CompletableFuture<>();
            CompletableFuture<Void> flushed = new CompletableFuture<>();
            AtomicLong sendsSeenByCallback = new AtomicLong(-1);
            long[] before = new long[1];
            q.submit(write(q, out), RemoteController.future("Write", wrote));
            q.submit(read(q, in), (status, result, failure) -> {
                sendsSeenByCallback.set(q.sendCalls() - before[0]);
                try {
                    CommandSlot slot = q.acquire("Flush");
                    SubmissionQueueEntry.opcode(slot.sqe, IoOpcode.FLUSH);
                    q.submit(slot, RemoteController.future("Flush", flushed));
                } catch (IOException e) {
                    flushed.completeExceptionally(e);
                }
            });
            assertTrue(capsulesRead.await(5, TimeUnit.SECONDS));
            before[0] = q.sendCalls();
            go.countDown();
            wrote.get(5, TimeUnit.SECONDS);
            flushed.get(5, TimeUnit.SECONDS);
            peerThread.join(5000);
            assertNull(peerError.get(), () -> "peer: " + peerError.get());
            assertArrayEquals(out.toArray(ValueLayout.JAVA_BYTE), written);
            assertArrayEquals(readData, in.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(0, sendsSeenByCallback.get(), "the write's data went out before the read completed");
            assertEquals(1, q.sendCalls() - before[0], "the Flush capsule and 4 H2CData PDUs: one sendmsg");
        }
    }

    /** A hostile or broken controller that completes a write, or asks again, before the data it asked for came. */
    @Test
    void completionOrSecondR2TBeforeTheR2TDataWasSentEndsTheQueueAndNothingIsSent() throws Exception {
        for (boolean secondR2T : new boolean[] {false, true}) {
            InetSocketAddress addr = peer(p -> {
                p.handshake(1 << 20, -1);
                int cid = Short.toUnsignedInt(p.capsule().getShort(2));
                ByteArrayOutputStream burst = new ByteArrayOutputStream();
                ByteBuffer r2t = le(new byte[24]);
                r2t.put(0, (byte) PduHeader.TYPE_R2T).put(2, (byte) 24).putInt(4, 24);
                r2t.putShort(8, (short) cid).putShort(10, (short) 1).putInt(12, 0).putInt(16, 16384);
                burst.writeBytes(r2t.array());
                if (secondR2T) {
                    r2t.putInt(12, 16384);
                    burst.writeBytes(r2t.array());
                } else {
                    burst.writeBytes(p.response(cid, 0, false));
                }
                p.out.write(burst.toByteArray());
                assertEquals(-1, p.in.read(), "the host sent data after the bad PDU");
            });
            try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, false, false, 5000)) {
                q.inCapsuleMax(4096);
                MemorySegment out = arena.allocate(32768, 4096);
                NvmeTransportException e = assertThrows(NvmeTransportException.class, () -> q.execute(write(q, out), 5000));
                assertTrue(e.getMessage().contains(secondR2T ? "before the data of its previous R2T was sent"
                        : "completed before the data its R2T asked for was sent"), e.getMessage());
                assertTrue(q.isFailed());
            }
            peerThread.join(5000);
            assertNull(peerError.get(), () -> "peer: " + peerError.get());
            server.close();
        }
    }

    @Test
    void manyPdusInOneSegmentAreParsedFromOneReadAndResubmissionsGoOutInOneSendmsg() throws Exception {
        int n = 16;
        byte[][] data = new byte[n][512];
        for (int i = 0; i < n; i++) {
            new java.util.Random(i).nextBytes(data[i]);
        }
        AtomicInteger second = new AtomicInteger();
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < n; i++) {
                int cid = Short.toUnsignedInt(p.capsule().getShort(2));
                // CapsuleResp after the data, or SUCCESS on the data: both in one segment
                if (i % 2 == 0) {
                    burst.writeBytes(p.c2h(cid, 0, data[i], 0, 512, PduHeader.FLAG_LAST_PDU, false));
                    burst.writeBytes(p.response(cid, 0, false));
                } else {
                    burst.writeBytes(p.c2h(cid, 0, data[i], 0, 512, PduHeader.FLAG_LAST_PDU | PduHeader.FLAG_SUCCESS, false));
                }
            }
            p.out.write(burst.toByteArray());
            // the n commands the callbacks submitted
            for (int i = 0; i < n; i++) {
                p.sendResponse(Short.toUnsignedInt(p.capsule().getShort(2)), 0, false);
                second.incrementAndGet();
            }
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 2 * n, true, true, 5000)) {
            MemorySegment[] bufs = new MemorySegment[n];
            CompletableFuture<?>[] done = new CompletableFuture<?>[n];
            CompletableFuture<?>[] flushes = new CompletableFuture<?>[n];
            long[] before = new long[2];
            for (int i = 0; i < n; i++) {
                bufs[i] = arena.allocate(512, 4096);
                CompletableFuture<Void> f = new CompletableFuture<>();
                CompletableFuture<Void> flush = new CompletableFuture<>();
                done[i] = f;
                flushes[i] = flush;
                IoCallback resubmit = (status, result, failure) -> {
                    try {
                        if (failure == null) {
                            CommandSlot slot = q.acquire("Flush");
                            SubmissionQueueEntry.opcode(slot.sqe, IoOpcode.FLUSH);
                            q.submit(slot, RemoteController.future("Flush", flush));
                        }
                    } catch (IOException e) {
                        flush.completeExceptionally(e);
                    }
                    RemoteController.future("Read", f).complete(status, result, failure);
                };
                if (i == n - 1) {
                    // every capsule is out before the burst comes back: the counters hold still until then
                    before[0] = q.receiveCalls();
                    before[1] = q.sendCalls();
                }
                q.submit(read(q, bufs[i]), resubmit);
            }
            CompletableFuture.allOf(done).get(5, TimeUnit.SECONDS);
            CompletableFuture.allOf(flushes).get(5, TimeUnit.SECONDS);
            for (int i = 0; i < n; i++) {
                assertArrayEquals(data[i], bufs[i].toArray(ValueLayout.JAVA_BYTE), "read " + i);
            }
            peerThread.join(5000);
            assertNull(peerError.get(), () -> "peer: " + peerError.get());
            assertEquals(n, second.get());
            // after the last capsule's sendmsg: the burst (one read, unless TCP cut it) and one sendmsg for the n
            // flushes its callbacks submitted, sent before the reader blocked again
            long sends = q.sendCalls() - before[1] - 1;
            assertTrue(sends >= 1 && sends <= 2, "sendmsg calls for " + n + " resubmissions: " + sends);
            assertTrue(q.receiveCalls() - before[0] <= 2 + n, "reads: " + (q.receiveCalls() - before[0]));
        }
    }

    @Test
    void pdusSplitAtEveryByteBoundaryAreReassembled() throws Exception {
        byte[] a = new byte[64];
        byte[] b = new byte[64];
        new java.util.Random(7).nextBytes(a);
        new java.util.Random(8).nextBytes(b);
        AtomicInteger length = new AtomicInteger();
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            for (int k = 1; ; k++) {
                int cidA = Short.toUnsignedInt(p.capsule().getShort(2));
                int cidB = Short.toUnsignedInt(p.capsule().getShort(2));
                // C2HData + CapsuleResp for A, C2HData with SUCCESS for B; header and data digests throughout
                byte[] all = concat(p.c2h(cidA, 0, a, 0, a.length, PduHeader.FLAG_LAST_PDU, false), p.response(cidA, 0, false),
                        p.c2h(cidB, 0, b, 0, b.length, PduHeader.FLAG_LAST_PDU | PduHeader.FLAG_SUCCESS, false));
                length.set(all.length);
                p.out.write(all, 0, k);
                p.out.flush();
                Thread.sleep(1); // the host reads the first part alone
                p.out.write(all, k, all.length - k);
                p.out.flush();
                if (k == all.length - 1) {
                    return;
                }
            }
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, true, true, 5000)) {
            MemorySegment inA = arena.allocate(a.length, 64);
            MemorySegment inB = arena.allocate(b.length, 64);
            int splits = 0;
            do {
                inA.fill((byte) 0);
                inB.fill((byte) 0);
                CompletableFuture<Void> fa = new CompletableFuture<>();
                CompletableFuture<Void> fb = new CompletableFuture<>();
                q.submit(read(q, inA), RemoteController.future("Read", fa));
                q.submit(read(q, inB), RemoteController.future("Read", fb));
                fa.get(5, TimeUnit.SECONDS);
                fb.get(5, TimeUnit.SECONDS);
                assertArrayEquals(a, inA.toArray(ValueLayout.JAVA_BYTE), "split at " + (splits + 1));
                assertArrayEquals(b, inB.toArray(ValueLayout.JAVA_BYTE), "split at " + (splits + 1));
                splits++;
            } while (length.get() == 0 || splits < length.get() - 1);
            assertEquals(28 + 64 + 4 + 28 + 28 + 64 + 4 - 1, splits);
            peerThread.join(5000);
            assertNull(peerError.get(), () -> "peer: " + peerError.get());
            assertEquals(0, q.payloadBytesCopied() - 2L * 64 * splits, "small payloads are all copied from staging");
        }
    }

    @Test
    void c2hDataPartlyStagedIsCopiedAndTheRestReadInPlace() throws Exception {
        int size = 64 << 10;
        int staged = 4096;
        byte[] data = new byte[size];
        new java.util.Random(3).nextBytes(data);
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            int cid = Short.toUnsignedInt(p.capsule().getShort(2));
            byte[] pdus = concat(p.c2h(cid, 0, data, 0, size, PduHeader.FLAG_LAST_PDU, false), p.response(cid, 0, false));
            int headerLength = 24 + 4;
            p.out.write(pdus, 0, headerLength + staged);
            p.out.flush();
            Thread.sleep(50); // the host stages the header and the first 4 KiB, then reads the rest in place
            p.out.write(pdus, headerLength + staged, pdus.length - headerLength - staged);
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, true, true, 5000)) {
            MemorySegment in = arena.allocate(size, 4096);
            long reads = q.receiveCalls();
            q.execute(read(q, in), 5000);
            assertArrayEquals(data, in.toArray(ValueLayout.JAVA_BYTE));
            assertEquals(staged, q.payloadBytesCopied(), "bytes copied from staging");
            assertTrue(q.receiveCalls() - reads <= 4, "reads: " + (q.receiveCalls() - reads));
            peerThread.join(5000);
            assertNull(peerError.get(), () -> "peer: " + peerError.get());
        }
    }

    @Test
    void connectionDropDuringAnInPlaceReadFailsTheCommandsInFlight() throws Exception {
        int size = 64 << 10;
        InetSocketAddress addr = peer(p -> {
            p.handshake(1 << 20, -1);
            int cid = Short.toUnsignedInt(p.capsule().getShort(2));
            p.capsule();
            byte[] pdu = p.c2h(cid, 0, new byte[size], 0, size, PduHeader.FLAG_LAST_PDU, false);
            p.out.write(pdu, 0, 24 + 1000);
            p.out.flush();
            Thread.sleep(50);
            p.out.write(pdu, 24 + 1000, 30_000);
            p.out.flush();
            p.socket.close();
        });
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 4, false, false, 5000)) {
            CompletableFuture<?>[] results = new CompletableFuture<?>[2];
            for (int i = 0; i < 2; i++) {
                CompletableFuture<Void> f = new CompletableFuture<>();
                q.submit(read(q, arena.allocate(size, 4096)), RemoteController.future("Read", f));
                results[i] = f;
            }
            for (CompletableFuture<?> f : results) {
                Throwable t = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> f.get(5, TimeUnit.SECONDS)).getCause();
                assertTrue(t instanceof NvmeTransportException && t.getMessage().contains("closed by"), t.toString());
            }
            assertEquals(1000, q.payloadBytesCopied());
        }
    }

    /**
     * A controller fast enough to keep a queue busy: every CapsuleCmd (a read, no digests) is answered with one
     * C2HData carrying SUCCESS, written in batches as the capsules come.
     */
    private InetSocketAddress fastReadTarget(int readSize) throws IOException {
        return peer(p -> {
            p.handshake(1 << 20, -1);
            BufferedInputStream in = new BufferedInputStream(p.socket.getInputStream(), 1 << 16);
            BufferedOutputStream out = new BufferedOutputStream(p.socket.getOutputStream(), 1 << 17);
            byte[] capsule = new byte[72];
            byte[] header = new byte[24];
            ByteBuffer h = le(header);
            h.put(0, (byte) PduHeader.TYPE_C2H_DATA).put(1, (byte) (PduHeader.FLAG_LAST_PDU | PduHeader.FLAG_SUCCESS))
                    .put(2, (byte) 24).put(3, (byte) 24).putInt(4, 24 + readSize).putInt(16, readSize);
            byte[] data = new byte[readSize];
            while (true) {
                int n = in.readNBytes(capsule, 0, 72);
                if (n < 72) {
                    return; // the host closed
                }
                h.putShort(8, le(capsule).getShort(8 + 2));
                out.write(header);
                out.write(data);
                if (in.available() < 72) {
                    out.flush();
                }
            }
        });
    }

    @Test
    void callbackReadsAllocateNothingOnTheReaderOrTheSubmitter() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        InetSocketAddress addr = fastReadTarget(4096);
        try (NvmeTcpQueue q = NvmeTcpQueue.open(addr, 1, 64, false, false, 5000)) {
            MemorySegment[] bufs = new MemorySegment[48];
            for (int i = 0; i < bufs.length; i++) {
                bufs[i] = arena.allocate(4096, 4096);
            }
            AtomicLong remaining = new AtomicLong();
            AtomicInteger ownInFlight = new AtomicInteger();
            AtomicInteger chainsRunning = new AtomicInteger();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            // 32 reads resubmitted by their own completions on the reader thread
            final class Chain implements IoCallback {
                final MemorySegment buffer;
                Chain(MemorySegment buffer) { this.buffer = buffer; }
                void next() throws IOException { q.submit(read(q, buffer), this); }
                @Override
                public void complete(int status, long result, Throwable failure) {
                    if (failure != null || !Status.isSuccess(status)) {
                        failed.compareAndSet(null, failure != null ? failure : new IOException("status " + status));
                    } else if (remaining.decrementAndGet() > 0) {
                        try {
                            next();
                            return;
                        } catch (IOException e) {
                            failed.compareAndSet(null, e);
                        }
                    }
                    chainsRunning.decrementAndGet();
                }
            }
            // plus up to 16 submitted by this thread, whose completions only count down
            IoCallback ownDone = (status, result, failure) -> {
                if (failure != null) {
                    failed.compareAndSet(null, failure);
                }
                ownInFlight.decrementAndGet();
            };
            Chain[] chains = new Chain[32];
            for (int i = 0; i < chains.length; i++) {
                chains[i] = new Chain(bufs[i]);
            }
            long[] allocated = new long[2];
            // until C2 has compiled the path (its queue lags on a loaded machine): the FFM downcalls' errno capture
            // allocates a segment slice until the call site is compiled with the stub inlined
            int rounds = 0;
            do {
                long readerBefore = threads.getThreadAllocatedBytes(q.readerThread().threadId());
                long submitterBefore = threads.getCurrentThreadAllocatedBytes();
                remaining.set(100_000);
                chainsRunning.set(chains.length);
                for (Chain c : chains) {
                    c.next();
                }
                long own = 0;
                while (remaining.get() > 0 && failed.get() == null) {
                    if (ownInFlight.get() < 16) {
                        ownInFlight.incrementAndGet();
                        q.submit(read(q, bufs[32 + (int) (own++ & 15)]), ownDone);
                    } else {
                        LockSupport.parkNanos(20_000);
                    }
                }
                while ((ownInFlight.get() > 0 || chainsRunning.get() > 0) && failed.get() == null) {
                    LockSupport.parkNanos(100_000);
                }
                assertNull(failed.get());
                allocated[0] = threads.getThreadAllocatedBytes(q.readerThread().threadId()) - readerBefore;
                allocated[1] = threads.getCurrentThreadAllocatedBytes() - submitterBefore;
                rounds++;
            } while (rounds < 2 || rounds < 8 && (allocated[0] >= 1024 || allocated[1] >= 1024));
            System.out.printf("100k callback reads (round %d): reader thread allocated %d bytes, submitting thread %d%n",
                    rounds, allocated[0], allocated[1]);
            assertTrue(allocated[0] < 1024, "reader thread allocated " + allocated[0] + " bytes for 100k reads");
            assertTrue(allocated[1] < 1024, "submitting thread allocated " + allocated[1] + " bytes for 100k reads");
        }
    }
}
