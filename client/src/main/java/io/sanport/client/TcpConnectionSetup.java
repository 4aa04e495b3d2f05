package io.sanport.client;

import io.sanport.nvme.tcp.ICReq;
import io.sanport.nvme.tcp.ICResp;
import io.sanport.nvme.tcp.PduHeader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * NVMe/TCP connection initialization (NVMe/TCP 1.0 §3.6.2.2-3; Linux {@code nvme_tcp_init_connection}): the host's
 * ICReq, then the controller's ICResp, checked the way the Linux host does. The fabrics Connect is the caller's next
 * step.
 */
final class TcpConnectionSetup {
    private static final int ICRESP_TIMEOUT_MILLIS = 10_000;

    private TcpConnectionSetup() {}

    /**
     * Exchanges ICReq/ICResp on a connected socket, asking for the given digests (the controller must grant exactly
     * those).
     *
     * @return the controller's MAXH2CDATA, the largest H2CData payload it takes
     */
    static long initialize(TcpSocket socket, boolean headerDigest, boolean dataDigest, int timeoutMillis)
            throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(io.sanport.bindings.Native.CAPTURE_LAYOUT);
            MemorySegment req = a.allocate(ICReq.SIZE, 8);
            int dgst = (headerDigest ? ICReq.DIGEST_HEADER : 0) | (dataDigest ? ICReq.DIGEST_DATA : 0);
            PduHeader.set(req, PduHeader.TYPE_IC_REQ, 0, ICReq.HLEN, 0, ICReq.SIZE);
            ICReq.pfv(req, ICReq.PFV_1_0);
            ICReq.hpda(req, 0);
            ICReq.dgst(req, dgst);
            ICReq.maxr2t(req, 0);
            MemorySegment msg = a.allocate(TcpSocket.MSGHDR_SIZE, 8);
            MemorySegment v = a.allocate(TcpSocket.IOVEC_SIZE, 8);
            v.set(JAVA_LONG, 0, req.address());
            v.set(JAVA_LONG, 8, ICReq.SIZE);
            socket.sendmsg(msg, v, 1, st);

            MemorySegment resp = a.allocate(ICResp.SIZE, 8);
            socket.receiveTimeout(Math.min(timeoutMillis, ICRESP_TIMEOUT_MILLIS));
            socket.recvFully(resp.address(), PduHeader.SIZE, st);
            String peer = socket.peer();
            if (PduHeader.type(resp) != PduHeader.TYPE_IC_RESP || PduHeader.plen(resp) != ICResp.SIZE) {
                throw new NvmeTransportException(peer + ": expected an ICResp (type 1, PLEN 128), got type "
                        + PduHeader.type(resp) + " PLEN " + PduHeader.plen(resp));
            }
            socket.recvFully(resp.address() + PduHeader.SIZE, ICResp.SIZE - PduHeader.SIZE, st);
            socket.receiveTimeout(0);
            if (ICResp.pfv(resp) != ICReq.PFV_1_0) {
                throw new NvmeTransportException(peer + ": ICResp PFV " + ICResp.pfv(resp) + ", only 0 is supported");
            }
            if (ICResp.dgst(resp) != dgst) {
                throw new NvmeTransportException(peer + ": asked for digests 0x" + Integer.toHexString(dgst)
                        + " (bit 0 header, bit 1 data), the controller answered 0x" + Integer.toHexString(ICResp.dgst(resp)));
            }
            if (ICResp.cpda(resp) != 0) {
                throw new NvmeTransportException(peer + ": ICResp CPDA " + ICResp.cpda(resp) + ", only 0 is supported");
            }
            long maxh2c = ICResp.maxh2cdata(resp);
            if (maxh2c < ICResp.MIN_MAXH2CDATA || maxh2c % 4 != 0) {
                throw new NvmeTransportException(peer + ": ICResp MAXH2CDATA " + maxh2c + " is not a multiple of 4 >= 4096");
            }
            return maxh2c;
        }
    }
}
