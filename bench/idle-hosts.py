#!/usr/bin/env python3
"""Abusive NVMe/TCP hosts for `bench/compare.sh connections`: only loopback addresses, bounded in count and time.

  idle-hosts.py --port P --nqn NQN [--idle 4096] [--idle-from 127.0.0.2 --idle-addrs 8]
                [--stalled 256] [--stalled-from 127.0.0.10 --stalled-addrs 2] [--kato-ms 30000] [--max-seconds 300]

Opens --stalled hosts first, each with two connections built PDU by PDU (the bytes of
tcp-transport/src/test/java/io/sanport/transport/tcp/RawHost.java): an admin queue (ICReq, fabrics Connect,
CC.EN=1, wait CSTS.RDY, Identify Namespace for the LBA size) and an I/O queue (ICReq, Connect, one 4 KiB Write
with an SGL Transport Data Block 0x5A); the target answers the Write with an R2T and the host never sends the
H2CData. Then --idle TCP connections that send nothing. Source addresses are bound round-robin over
--idle-addrs / --stalled-addrs consecutive loopback addresses so no single address reaches the per-host cap.

Prints `ready idle=N stalled=M` on stdout once they are up, then keeps them up: a connection the target closes
is opened again (as an attacker would), until SIGUSR1. From SIGUSR1 on, nothing is reopened and nothing is
closed by us: only the target's timeouts end them. On SIGTERM (or --max-seconds) it closes what is left and
prints one JSON line with the counts.
"""
import argparse
import ipaddress
import json
import selectors
import signal
import socket
import struct
import sys
import time
import uuid

T_ICREQ, T_ICRESP, T_C2H_TERM, T_CAPSULE_CMD, T_CAPSULE_RESP, T_C2H_DATA, T_R2T = 0x00, 0x01, 0x03, 0x04, 0x05, 0x07, 0x09
FLAG_SUCCESS = 1 << 3
SGL_DATA_OFFSET, SGL_TCP_TRANSPORT = 0x01, 0x5A
OPC_FABRICS, OPC_IDENTIFY, OPC_WRITE = 0x7F, 0x06, 0x01
FCTYPE_PROPERTY_SET, FCTYPE_CONNECT, FCTYPE_PROPERTY_GET = 0x00, 0x01, 0x04
PROP_CC, PROP_CSTS = 0x14, 0x1C


def pdu_header(ptype, hlen, pdo, plen, flags=0):
    return struct.pack('<BBBBI', ptype, flags, hlen, pdo, plen)


def sqe(opcode, cid, nsid=0, sgl_len=0, sgl_id=SGL_DATA_OFFSET):
    s = bytearray(64)
    s[0] = opcode
    s[1] = 0x40  # PSDT: SGL, as every fabrics host sends
    struct.pack_into('<HI', s, 2, cid, nsid)
    struct.pack_into('<QI', s, 24, 0, sgl_len)
    s[39] = sgl_id
    return s


class Host:
    """One blocking NVMe/TCP queue, one command at a time."""

    def __init__(self, src, port, timeout=10.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.bind((src, 0))
        self.sock.connect(('127.0.0.1', port))
        self.cid = 0

    def read(self, n):
        b = bytearray()
        while len(b) < n:
            chunk = self.sock.recv(n - len(b))
            if not chunk:
                raise IOError('connection closed by the target')
            b += chunk
        return bytes(b)

    def pdu(self):
        common = self.read(8)
        plen = struct.unpack_from('<I', common, 4)[0]
        if plen < 8 or plen > 1 << 24:
            raise IOError('PLEN %d' % plen)
        return common + self.read(plen - 8)

    def initialize(self):
        req = bytearray(128)
        req[0:8] = pdu_header(T_ICREQ, 128, 0, 128)  # PFV 0, HPDA 0, no digests, MAXR2T 0
        self.sock.sendall(req)
        resp = self.pdu()
        if resp[0] != T_ICRESP:
            raise IOError('ICResp expected, got PDU type %d' % resp[0])

    def command(self, s, data=None):
        """Sends SQE s (in-capsule data when given); returns (status, dw0, C2HData bytes) or ('r2t', ...) ."""
        self.cid = self.cid % 0xFFF + 1
        struct.pack_into('<H', s, 2, self.cid)
        dlen = len(data) if data else 0
        p = pdu_header(T_CAPSULE_CMD, 72, 72 if dlen else 0, 72 + dlen) + bytes(s) + (data or b'')
        self.sock.sendall(p)
        got = bytearray()
        while True:
            r = self.pdu()
            if r[0] == T_C2H_DATA:
                pdo, datal = r[3], struct.unpack_from('<I', r, 16)[0]
                got += r[pdo:pdo + datal]
                if r[1] & FLAG_SUCCESS:
                    return 0, 0, bytes(got)
            elif r[0] == T_CAPSULE_RESP:
                dw0, cid, status = struct.unpack_from('<I', r, 8)[0], *struct.unpack_from('<HH', r, 8 + 12)
                if cid == self.cid:
                    return status >> 1, dw0, bytes(got)
            elif r[0] == T_R2T:
                return 'r2t', struct.unpack_from('<H', r, 8)[0], b''
            else:
                raise IOError('unexpected PDU type %d' % r[0])

    def connect(self, qid, sqsize, kato_ms, cntlid, subnqn, hostnqn, hostid):
        s = sqe(OPC_FABRICS, 0, sgl_len=1024)
        s[4] = FCTYPE_CONNECT
        struct.pack_into('<HHHBxI', s, 40, 0, qid, sqsize, 0, kato_ms)
        d = bytearray(1024)
        d[0:16] = hostid.bytes
        struct.pack_into('<H', d, 16, cntlid)
        d[256:256 + len(subnqn)] = subnqn.encode()
        d[512:512 + len(hostnqn)] = hostnqn.encode()
        status, dw0, _ = self.command(s, bytes(d))
        if status != 0:
            raise IOError('Connect qid %d: status 0x%x' % (qid, status))
        return dw0 & 0xFFFF

    def property_set(self, offset, value):
        s = sqe(OPC_FABRICS, 0)
        s[4] = FCTYPE_PROPERTY_SET
        struct.pack_into('<IIQ', s, 40, 0, offset, value)
        status, _, _ = self.command(s)
        if status != 0:
            raise IOError('Property Set 0x%x: status 0x%x' % (offset, status))

    def property_get(self, offset):
        s = sqe(OPC_FABRICS, 0)
        s[4] = FCTYPE_PROPERTY_GET
        struct.pack_into('<II', s, 40, 0, offset)
        status, dw0, _ = self.command(s)
        if status != 0:
            raise IOError('Property Get 0x%x: status 0x%x' % (offset, status))
        return dw0

    def lba_size(self, nsid):
        s = sqe(OPC_IDENTIFY, 0, nsid=nsid, sgl_len=4096, sgl_id=SGL_TCP_TRANSPORT)  # CNS 0: namespace
        status, _, data = self.command(s)
        if status != 0 or len(data) < 4096:
            raise IOError('Identify Namespace: status 0x%x, %d bytes' % (status, len(data)))
        return 1 << data[128 + 4 * (data[26] & 0x0F) + 2]


def stalled_host(src, port, nqn, kato_ms):
    """Admin + I/O queue of one host whose 4 KiB Write waits for H2CData forever; returns both sockets."""
    hostid = uuid.uuid4()
    hostnqn = 'nqn.2014-08.org.nvmexpress:uuid:' + str(hostid)
    admin = Host(src, port)
    io = None
    try:
        admin.initialize()
        cntlid = admin.connect(0, 31, kato_ms, 0xFFFF, nqn, hostnqn, hostid)
        admin.property_set(PROP_CC, 0x00460001)
        deadline = time.monotonic() + 5
        while not admin.property_get(PROP_CSTS) & 1:
            if time.monotonic() > deadline:
                raise IOError('CSTS.RDY not within 5 s')
            time.sleep(0.01)
        lba = admin.lba_size(1)
        io = Host(src, port)
        io.initialize()
        io.connect(1, 31, 0, cntlid, nqn, hostnqn, hostid)
        w = sqe(OPC_WRITE, 0, nsid=1, sgl_len=4096, sgl_id=SGL_TCP_TRANSPORT)
        struct.pack_into('<QH', w, 40, 0, 4096 // lba - 1)  # SLBA 0, NLB
        got = io.command(w)
        if got[0] != 'r2t':
            raise IOError('Write: an R2T expected, got status %r' % (got[0],))
        return [admin.sock, io.sock]
    except BaseException:
        admin.sock.close()
        if io:
            io.sock.close()
        raise


def addresses(first, n):
    base = ipaddress.IPv4Address(first)
    out = [str(base + i) for i in range(n)]
    if not all(ipaddress.IPv4Address(a).is_loopback for a in out):
        sys.exit('idle-hosts.py: only loopback source addresses (127.0.0.0/8)')
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--nqn', required=True)
    ap.add_argument('--idle', type=int, default=4096)
    ap.add_argument('--idle-from', default='127.0.0.2')
    ap.add_argument('--idle-addrs', type=int, default=8)
    ap.add_argument('--stalled', type=int, default=256)
    ap.add_argument('--stalled-from', default='127.0.0.10')
    ap.add_argument('--stalled-addrs', type=int, default=2)
    ap.add_argument('--kato-ms', type=int, default=30000, help='KATO of the stalled hosts\' admin queues')
    ap.add_argument('--max-seconds', type=float, default=300, help='ends by itself after this long')
    a = ap.parse_args()
    idle_src, stalled_src = addresses(a.idle_from, a.idle_addrs), addresses(a.stalled_from, a.stalled_addrs)
    t0 = time.monotonic()
    state = {'maintain': True, 'stop': False}
    signal.signal(signal.SIGUSR1, lambda *_: state.update(maintain=False))
    signal.signal(signal.SIGTERM, lambda *_: state.update(stop=True))
    sel = selectors.DefaultSelector()
    counts = {'idle_opened': 0, 'idle_closed_by_target': 0, 'idle_refused_at_once': 0, 'idle_connect_failed': 0,
              'stalled_opened': 0, 'stalled_failed': 0, 'stalled_sockets_closed_by_target': 0}
    live = {}  # socket -> (kind, src, opened_at, connected)

    def open_idle(src):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((src, 0))
        s.connect_ex(('127.0.0.1', a.port))
        live[s] = ['idle', src, time.monotonic(), False, None]
        sel.register(s, selectors.EVENT_WRITE)
        counts['idle_opened'] += 1

    def open_stalled(src):
        try:
            socks = stalled_host(src, a.port, a.nqn, a.kato_ms)
        except (OSError, IOError) as e:
            counts['stalled_failed'] += 1
            print('idle-hosts.py: stalled host from %s: %s' % (src, e), file=sys.stderr)
            return
        counts['stalled_opened'] += 1
        for s in socks:
            s.setblocking(False)
            live[s] = ['stalled', src, time.monotonic(), True, socks]
            sel.register(s, selectors.EVENT_READ)

    for i in range(a.stalled):
        open_stalled(stalled_src[i % len(stalled_src)])
    for i in range(a.idle):
        open_idle(idle_src[i % len(idle_src)])
    ready = False
    while not state['stop'] and time.monotonic() - t0 < a.max_seconds:
        for key, ev in sel.select(0.2):
            s = key.fileobj
            if s not in live:
                continue  # the partner of a stalled pair replaced earlier in this round
            kind, src, opened, connected, pair = live[s]
            closed = False
            if not connected:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:  # refused (the target is gone, or its backlog full): not reopened, no retry loop
                    counts['idle_connect_failed'] += 1
                    sel.unregister(s)
                    s.close()
                    del live[s]
                    continue
                else:
                    live[s][3] = True
                    sel.modify(s, selectors.EVENT_READ)
            else:
                try:
                    closed = s.recv(65536) == b''  # the target sends nothing we wait for: data is drained
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
                if closed and kind == 'idle':
                    counts['idle_closed_by_target'] += 1
                    if time.monotonic() - opened < 1.0:
                        counts['idle_refused_at_once'] += 1  # the caps: accepted and closed
                elif closed:
                    counts['stalled_sockets_closed_by_target'] += 1
            if closed:
                sel.unregister(s)
                s.close()
                del live[s]
                if state['maintain']:
                    if kind == 'idle':
                        open_idle(src)
                    else:  # a new pair for this one (its other half would be shed soon anyway)
                        for other in pair:
                            if other in live:
                                sel.unregister(other)
                                other.close()
                                del live[other]
                        open_stalled(src)
        if not ready and all(v[3] for v in live.values()):
            ready = True
            n_idle = sum(1 for v in live.values() if v[0] == 'idle')
            n_stalled = sum(1 for v in live.values() if v[0] == 'stalled') // 2
            print('ready idle=%d stalled=%d seconds=%.1f' % (n_idle, n_stalled, time.monotonic() - t0), flush=True)
        if not state['maintain'] and not live:
            break
    left = len(live)
    for s in list(live):
        s.close()
    counts['left_open_at_exit'] = left
    print(json.dumps(counts), flush=True)


if __name__ == '__main__':
    main()
