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
import java.util.concurrent.CompletableFuture;
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
            ByteBuffer p = le(new byte[24 + (hdgst ? 4 : 0)]);
            p.put(0, (byte) PduHeader.TYPE_CAPSULE_RESP).put(1, (byte) (hdgst ? 1 : 0)).put(2, (byte) 24)
                    .putInt(4, p.capacity());
            p.putShort(8 + 12, (short) cid).putShort(8 + 14, (short) status);
            if (hdgst) {
                p.putInt(24, crc(p.array(), 0, 24) ^ (badDigest ? 1 : 0));
            }
            out.write(p.array());
        }

        void sendC2H(int cid, int offset, byte[] data, int from, int len, int extraFlags, boolean badDataDigest) throws IOException {
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
            out.write(p.array());
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
}
