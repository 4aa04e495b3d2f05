package io.sanport.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.libc.SockaddrIn;
import io.sanport.bindings.rdmacm.RdmaCmEvent;
import io.sanport.bindings.rdmacm.RdmaCmId;
import io.sanport.bindings.rdmacm.RdmaConnParam;
import io.sanport.bindings.rdmacm.Rdmacm;
import io.sanport.bindings.verbs.IbvCq;
import io.sanport.bindings.verbs.IbvDeviceAttr;
import io.sanport.bindings.verbs.IbvGid;
import io.sanport.bindings.verbs.IbvMr;
import io.sanport.bindings.verbs.IbvPortAttr;
import io.sanport.bindings.verbs.IbvQp;
import io.sanport.bindings.verbs.IbvQpAttr;
import io.sanport.bindings.verbs.IbvQpInitAttr;
import io.sanport.bindings.verbs.IbvRecvWr;
import io.sanport.bindings.verbs.IbvSendWr;
import io.sanport.bindings.verbs.IbvSge;
import io.sanport.bindings.verbs.IbvSrqInitAttr;
import io.sanport.bindings.verbs.IbvWc;
import io.sanport.bindings.verbs.Ibverbs;
import io.sanport.bindings.verbs.Verbs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * The verbs and RDMA CM bindings against a real device: SoftRoCE {@code rxe0} on 169.254.77.1 in the test VM
 * ({@code tests/vm/run.sh --rdma}; run by rdma-transport/src/test/vm/verbs-proof.sh). One JVM, one thread, both
 * ends of every connection (rxe loops packets to its own address back):
 * <ol>
 * <li>raw verbs on a context of our own: device list, open, query device/port/GID, PD, a 1 MiB MR, a completion
 *     channel, CQ, SRQ and two RC QPs moved RESET→INIT→RTR→RTS by hand, a SEND into the SRQ, woken through
 *     the channel;</li>
 * <li>RDMA CM: listen, resolve, connect with NVMe/RDMA-style private data (checked on the server), accept with
 *     private data (checked on the client), SEND/RECV both ways, RDMA WRITE and RDMA READ of patterned data,
 *     an RDMA WRITE bandwidth run, disconnect;</li>
 * <li>teardown: every resource destroyed once, newest first (a QP before its CQ, an MR before its PD).</li>
 * </ol>
 * Prints PASS/FAIL lines, {@code JAVA_WRITE_BW_MIBS=<MiB/s>} and "N passed, M failed"; exits 1 on a failure.
 * A watchdog ends the JVM if one step blocks for more than {@link #STEP_SECONDS}.
 */
public final class SoftRoceProof {
    static final String DEVICE = "rxe0";
    static final byte[] ADDRESS_V4 = {(byte) 169, (byte) 254, 77, 1};
    static final int CM_PORT = 24420;
    static final int PORT_NUM = 1;
    static final int GID_INDEX = 1;
    static final int MIB = 1 << 20;
    static final int MSG = 4096;
    static final int RECVS = 16;
    static final long RECV_AREA = 64 * 1024;        // RECVS receive buffers of MSG bytes
    static final long WRITE_AREA = 256 * 1024;      // server RDMA WRITEs here on the client
    static final long READ_AREA = 512 * 1024;       // server RDMA READs from here on the client
    static final int RDMA_BYTES = 256 * 1024;
    static final int BENCH_BLOCK = 64 * 1024;
    static final int BENCH_DEPTH = 128;             // as ib_write_bw's default tx depth
    static final int BENCH_SIGNAL_EVERY = 16;
    static final int STEP_SECONDS = 30;

    private final Arena arena = Arena.ofShared();
    private final Deque<Owned> live = new ArrayDeque<>();
    private int created;
    private int passed;
    private int failed;
    private final double benchSeconds;

    private static volatile String step = "start";
    private static volatile long stepDeadline = Long.MAX_VALUE;

    private record Owned(String name, Destroy destroy) {}

    @FunctionalInterface
    private interface Destroy {
        void run() throws Exception;
    }

    @FunctionalInterface
    private interface Step {
        String run() throws Exception;
    }

    /** A check that failed: the step's FAIL line says why. */
    private static final class Failed extends Exception {
        Failed(String why) {
            super(why);
        }
    }

    private SoftRoceProof(double benchSeconds) {
        this.benchSeconds = benchSeconds;
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 4;
        Thread watchdog = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
                if (System.nanoTime() > stepDeadline) {
                    System.out.println("FAIL " + step + ": no progress in " + STEP_SECONDS + " s (blocked in a verbs or CM call)");
                    System.out.println("watchdog: giving up");
                    System.out.flush();
                    Runtime.getRuntime().halt(2);
                }
            }
        }, "watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        SoftRoceProof proof = new SoftRoceProof(seconds);
        proof.run();
        System.out.println(proof.passed + " passed, " + proof.failed + " failed");
        System.exit(proof.failed == 0 ? 0 : 1);
    }

    private <T extends MemorySegment> T own(String name, T resource, Destroy destroy) {
        live.push(new Owned(name, destroy));
        created++;
        return resource;
    }

    private void step(String name, Step body) throws Failed {
        step = name;
        stepDeadline = System.nanoTime() + STEP_SECONDS * 1_000_000_000L;
        long t0 = System.nanoTime();
        try {
            String detail = body.run();
            passed++;
            System.out.printf("PASS %s (%.0f ms)%s%n", name, (System.nanoTime() - t0) / 1e6,
                    detail == null || detail.isEmpty() ? "" : ": " + detail);
        } catch (Failed f) {
            failed++;
            System.out.println("FAIL " + name + ": " + f.getMessage());
            throw f;
        } catch (Exception | Error e) {
            failed++;
            System.out.println("FAIL " + name + ": " + e);
            throw new Failed(e.toString());
        } finally {
            stepDeadline = Long.MAX_VALUE;
        }
    }

    private static void expect(boolean ok, String why) throws Failed {
        if (!ok) {
            throw new Failed(why);
        }
    }

    // --- state shared between steps ---
    private MemorySegment context;
    private MemorySegment deviceAttr;
    private MemorySegment gid;
    private MemorySegment pd;
    private MemorySegment mr;
    private MemorySegment buffer;
    private int activeMtu;

    private void run() {
        try {
            rawVerbs();
            rdmaCm();
        } catch (Failed f) {
            System.out.println("(stopping after the first failure; tearing down what was created)");
        }
        teardown();
    }

    // ---------------------------------------------------------------- 1. raw verbs on our own context

    private void rawVerbs() throws Failed {
        step("device list has " + DEVICE + " (ibv_get_device_list, ibv_get_device_name)", () -> {
            MemorySegment num = arena.allocate(JAVA_INT);
            MemorySegment list = Ibverbs.ibv_get_device_list(num);
            own("device list", list, () -> Ibverbs.ibv_free_device_list(list));
            MemorySegment device = MemorySegment.NULL;
            String[] names = new String[num.get(JAVA_INT, 0)];
            for (int i = 0; i < names.length; i++) {
                names[i] = Ibverbs.ibv_get_device_name(list.getAtIndex(ADDRESS, i));
                if (DEVICE.equals(names[i])) {
                    device = list.getAtIndex(ADDRESS, i);
                }
            }
            expect(!device.equals(MemorySegment.NULL), "devices: " + Arrays.toString(names));
            MemorySegment dev = device;
            context = own("context " + DEVICE, Ibverbs.ibv_open_device(dev),
                    () -> Ibverbs.ibv_close_device(context));
            return names.length + " device(s) " + Arrays.toString(names) + ", opened " + DEVICE
                    + " (cmd_fd " + io.sanport.bindings.verbs.IbvContext.cmd_fd(context) + ")";
        });
        step("ibv_query_device", () -> {
            deviceAttr = arena.allocate(IbvDeviceAttr.LAYOUT);
            Ibverbs.ibv_query_device(context, deviceAttr);
            expect(IbvDeviceAttr.phys_port_cnt(deviceAttr) == 1, "phys_port_cnt " + IbvDeviceAttr.phys_port_cnt(deviceAttr));
            expect(IbvDeviceAttr.max_qp_wr(deviceAttr) >= 256, "max_qp_wr " + IbvDeviceAttr.max_qp_wr(deviceAttr));
            boolean memMgt = (IbvDeviceAttr.device_cap_flags(deviceAttr) & Ibverbs.IBV_DEVICE_MEM_MGT_EXTENSIONS) != 0;
            return "fw '" + IbvDeviceAttr.fw_ver(deviceAttr) + "', max_qp " + IbvDeviceAttr.max_qp(deviceAttr)
                    + ", max_qp_wr " + IbvDeviceAttr.max_qp_wr(deviceAttr) + ", max_sge " + IbvDeviceAttr.max_sge(deviceAttr)
                    + ", max_qp_rd_atom " + IbvDeviceAttr.max_qp_rd_atom(deviceAttr) + ", max_srq_wr "
                    + IbvDeviceAttr.max_srq_wr(deviceAttr) + ", max_mr_size 0x"
                    + Long.toHexString(IbvDeviceAttr.max_mr_size(deviceAttr)) + ", IBV_DEVICE_MEM_MGT_EXTENSIONS "
                    + (memMgt ? "set" : "not set");
        });
        step("ibv_query_port " + PORT_NUM + " is ACTIVE", () -> {
            MemorySegment port = arena.allocate(IbvPortAttr.LAYOUT);
            Ibverbs.ibv_query_port(context, PORT_NUM, port);
            activeMtu = IbvPortAttr.active_mtu(port);
            expect(IbvPortAttr.state(port) == Ibverbs.IBV_PORT_ACTIVE,
                    "state " + Ibverbs.portStateName(IbvPortAttr.state(port)));
            expect(IbvPortAttr.link_layer(port) == Ibverbs.IBV_LINK_LAYER_ETHERNET,
                    "link_layer " + IbvPortAttr.link_layer(port) + " (RoCE is Ethernet)");
            return "state " + Ibverbs.portStateName(IbvPortAttr.state(port)) + ", active_mtu "
                    + Ibverbs.mtuBytes(activeMtu) + ", max_mtu " + Ibverbs.mtuBytes(IbvPortAttr.max_mtu(port))
                    + ", gid_tbl_len " + IbvPortAttr.gid_tbl_len(port) + ", link layer Ethernet";
        });
        step("ibv_query_gid index " + GID_INDEX + " is ::ffff:169.254.77.1", () -> {
            gid = arena.allocate(IbvGid.LAYOUT);
            Ibverbs.ibv_query_gid(context, PORT_NUM, GID_INDEX, gid);
            expect(Arrays.equals(IbvGid.ipv4(gid), ADDRESS_V4), "GID " + IbvGid.format(gid));
            return IbvGid.format(gid);
        });
        step("ibv_alloc_pd, ibv_reg_mr 1 MiB", () -> {
            pd = own("PD", Ibverbs.ibv_alloc_pd(context), () -> Ibverbs.ibv_dealloc_pd(pd));
            buffer = arena.allocate(MIB, 4096);
            long t0 = System.nanoTime();
            mr = own("MR 1 MiB", Ibverbs.ibv_reg_mr(pd, buffer, Ibverbs.IBV_ACCESS_LOCAL_WRITE
                    | Ibverbs.IBV_ACCESS_REMOTE_WRITE | Ibverbs.IBV_ACCESS_REMOTE_READ), () -> Ibverbs.ibv_dereg_mr(mr));
            long t1 = System.nanoTime();
            expect(IbvMr.addr(mr) == buffer.address(), "mr->addr 0x" + Long.toHexString(IbvMr.addr(mr)));
            expect(IbvMr.length(mr) == MIB, "mr->length " + IbvMr.length(mr));
            expect(IbvMr.pd(mr).address() == pd.address(), "mr->pd is not our PD");
            return String.format("addr 0x%x length %d lkey 0x%x rkey 0x%x, registered in %.2f ms", IbvMr.addr(mr),
                    IbvMr.length(mr), IbvMr.lkey(mr), IbvMr.rkey(mr), (t1 - t0) / 1e6);
        });

        Verbs verbs = Verbs.of(context);
        MemorySegment[] channel = new MemorySegment[1];
        MemorySegment[] cq = new MemorySegment[1];
        MemorySegment[] srq = new MemorySegment[1];
        MemorySegment[] qps = new MemorySegment[2];
        int[] events = new int[1];
        step("completion channel, CQ, SRQ, two RC QPs RESET→INIT→RTR→RTS (ibv_modify_qp, GID " + GID_INDEX + ")", () -> {
            channel[0] = own("completion channel", Ibverbs.ibv_create_comp_channel(context),
                    () -> Ibverbs.ibv_destroy_comp_channel(channel[0]));
            cq[0] = own("CQ (raw)", Ibverbs.ibv_create_cq(context, 64, MemorySegment.NULL, channel[0], 0), () -> {
                Ibverbs.ibv_ack_cq_events(cq[0], events[0]);
                Ibverbs.ibv_destroy_cq(cq[0]);
            });
            expect(IbvCq.channel(cq[0]).address() == channel[0].address(), "cq->channel");
            MemorySegment srqAttr = arena.allocate(IbvSrqInitAttr.LAYOUT);
            IbvSrqInitAttr.max_wr(srqAttr, 16);
            IbvSrqInitAttr.max_sge(srqAttr, 1);
            srq[0] = own("SRQ", Ibverbs.ibv_create_srq(pd, srqAttr), () -> Ibverbs.ibv_destroy_srq(srq[0]));
            for (int i = 0; i < 2; i++) {
                MemorySegment init = arena.allocate(IbvQpInitAttr.LAYOUT);
                IbvQpInitAttr.send_cq(init, cq[0]);
                IbvQpInitAttr.recv_cq(init, cq[0]);
                IbvQpInitAttr.srq(init, i == 1 ? srq[0] : MemorySegment.NULL);
                IbvQpInitAttr.cap(init, 16, i == 1 ? 0 : 16, 1, 1, 0);
                IbvQpInitAttr.qp_type(init, Ibverbs.IBV_QPT_RC);
                int n = i;
                qps[i] = own("QP " + (char) ('A' + i), Ibverbs.ibv_create_qp(pd, init), () -> Ibverbs.ibv_destroy_qp(qps[n]));
                expect(IbvQp.state(qps[i]) == Ibverbs.IBV_QPS_RESET, "new QP in " + Ibverbs.qpStateName(IbvQp.state(qps[i])));
            }
            for (int i = 0; i < 2; i++) {
                connectByHand(qps[i], IbvQp.qp_num(qps[1 - i]));
                expect(IbvQp.state(qps[i]) == Ibverbs.IBV_QPS_RTS, "QP state " + Ibverbs.qpStateName(IbvQp.state(qps[i])));
            }
            return "QP " + IbvQp.qp_num(qps[0]) + " <-> QP " + IbvQp.qp_num(qps[1]) + " (on the SRQ), both RTS, path MTU "
                    + Ibverbs.mtuBytes(activeMtu) + ", SRQ max_wr " + IbvSrqInitAttr.max_wr(srqAttr);
        });
        step("SEND 4 KiB QP A → SRQ of QP B, woken through the completion channel (ibv_post_srq_recv, "
                + "ibv_req_notify_cq, ibv_get_cq_event)", () -> {
            pattern(buffer, 0, MSG, 11);
            buffer.asSlice(READ_AREA, MSG).fill((byte) 0);
            MemorySegment sge = arena.allocate(IbvSge.LAYOUT);
            MemorySegment bad = arena.allocate(ADDRESS);
            MemorySegment rwr = arena.allocate(IbvRecvWr.LAYOUT);
            MemorySegment rsge = arena.allocate(IbvSge.LAYOUT);
            IbvSge.set(rsge, 0, buffer.address() + READ_AREA, MSG, IbvMr.lkey(mr));
            IbvRecvWr.wr_id(rwr, 0, 0xB0);
            IbvRecvWr.sg_list(rwr, 0, rsge, 1);
            int rc = verbs.ibv_post_srq_recv(srq[0], rwr, bad);
            expect(rc == 0, "ibv_post_srq_recv: " + Errno.describe(rc));
            expect(verbs.ibv_req_notify_cq(cq[0], 0) == 0, "ibv_req_notify_cq");
            MemorySegment wr = arena.allocate(IbvSendWr.LAYOUT);
            IbvSge.set(sge, 0, buffer.address(), MSG, IbvMr.lkey(mr));
            IbvSendWr.wr_id(wr, 0, 0xA0);
            IbvSendWr.sg_list(wr, 0, sge, 1);
            IbvSendWr.opcode(wr, 0, Ibverbs.IBV_WR_SEND);
            IbvSendWr.send_flags(wr, 0, Ibverbs.IBV_SEND_SIGNALED);
            rc = verbs.ibv_post_send(qps[0], wr, bad);
            expect(rc == 0, "ibv_post_send: " + Errno.describe(rc));
            MemorySegment woke = Ibverbs.ibv_get_cq_event(channel[0]);
            events[0]++;
            expect(woke.address() == cq[0].address(), "the event names another CQ");
            MemorySegment wc = arena.allocate(IbvWc.LAYOUT, 4);
            boolean sent = false, received = false;
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!(sent && received) && System.nanoTime() < deadline) {
                int n = verbs.ibv_poll_cq(cq[0], 4, wc);
                expect(n >= 0, "ibv_poll_cq returned " + n);
                for (int i = 0; i < n; i++) {
                    long at = i * IbvWc.SIZE;
                    expect(IbvWc.status(wc, at) == Ibverbs.IBV_WC_SUCCESS, "completion of wr_id 0x"
                            + Long.toHexString(IbvWc.wr_id(wc, at)) + ": " + Ibverbs.ibv_wc_status_str(IbvWc.status(wc, at)));
                    if (IbvWc.wr_id(wc, at) == 0xA0) {
                        expect(IbvWc.opcode(wc, at) == Ibverbs.IBV_WC_SEND, "send opcode " + IbvWc.opcode(wc, at));
                        sent = true;
                    } else {
                        expect(IbvWc.wr_id(wc, at) == 0xB0 && IbvWc.opcode(wc, at) == Ibverbs.IBV_WC_RECV,
                                "unexpected completion wr_id 0x" + Long.toHexString(IbvWc.wr_id(wc, at)));
                        expect(IbvWc.byte_len(wc, at) == MSG, "byte_len " + IbvWc.byte_len(wc, at));
                        expect(IbvWc.qp_num(wc, at) == IbvQp.qp_num(qps[1]), "received on QP " + IbvWc.qp_num(wc, at));
                        received = true;
                    }
                }
            }
            expect(sent && received, "completions: send " + sent + ", receive " + received);
            expect(same(buffer, 0, buffer, READ_AREA, MSG), "the received bytes differ from the sent ones");
            return "1 channel event, SEND + RECV completions (byte_len " + MSG + "), data verified";
        });
    }

    /** RESET→INIT→RTR→RTS for an RC QP to {@code remoteQpn} on our own GID (ibv_modify_qp(3)). */
    private void connectByHand(MemorySegment qp, int remoteQpn) throws ErrnoException {
        MemorySegment attr = arena.allocate(IbvQpAttr.LAYOUT);
        IbvQpAttr.qp_state(attr, Ibverbs.IBV_QPS_INIT);
        IbvQpAttr.pkey_index(attr, 0);
        IbvQpAttr.port_num(attr, PORT_NUM);
        IbvQpAttr.qp_access_flags(attr, Ibverbs.IBV_ACCESS_LOCAL_WRITE | Ibverbs.IBV_ACCESS_REMOTE_WRITE
                | Ibverbs.IBV_ACCESS_REMOTE_READ);
        Ibverbs.ibv_modify_qp(qp, attr, Ibverbs.IBV_QP_STATE | Ibverbs.IBV_QP_PKEY_INDEX | Ibverbs.IBV_QP_PORT
                | Ibverbs.IBV_QP_ACCESS_FLAGS);
        attr.fill((byte) 0);
        IbvQpAttr.qp_state(attr, Ibverbs.IBV_QPS_RTR);
        IbvQpAttr.path_mtu(attr, activeMtu);
        IbvQpAttr.dest_qp_num(attr, remoteQpn);
        IbvQpAttr.rq_psn(attr, 0);
        IbvQpAttr.max_dest_rd_atomic(attr, 1);
        IbvQpAttr.min_rnr_timer(attr, 12);
        IbvQpAttr.ah_attr_global(attr, gid, GID_INDEX, PORT_NUM);
        Ibverbs.ibv_modify_qp(qp, attr, Ibverbs.IBV_QP_STATE | Ibverbs.IBV_QP_AV | Ibverbs.IBV_QP_PATH_MTU
                | Ibverbs.IBV_QP_DEST_QPN | Ibverbs.IBV_QP_RQ_PSN | Ibverbs.IBV_QP_MAX_DEST_RD_ATOMIC
                | Ibverbs.IBV_QP_MIN_RNR_TIMER);
        attr.fill((byte) 0);
        IbvQpAttr.qp_state(attr, Ibverbs.IBV_QPS_RTS);
        IbvQpAttr.timeout(attr, 14);
        IbvQpAttr.retry_cnt(attr, 7);
        IbvQpAttr.rnr_retry(attr, 7);
        IbvQpAttr.sq_psn(attr, 0);
        IbvQpAttr.max_rd_atomic(attr, 1);
        Ibverbs.ibv_modify_qp(qp, attr, Ibverbs.IBV_QP_STATE | Ibverbs.IBV_QP_TIMEOUT | Ibverbs.IBV_QP_RETRY_CNT
                | Ibverbs.IBV_QP_RNR_RETRY | Ibverbs.IBV_QP_SQ_PSN | Ibverbs.IBV_QP_MAX_QP_RD_ATOMIC);
    }

    // ---------------------------------------------------------------- 2. RDMA CM

    /** One end of the CM connection: its id, CQ, QP buffers and data path. */
    private final class End {
        final String name;
        MemorySegment id;
        MemorySegment pd;
        MemorySegment cq;
        MemorySegment mr;
        final MemorySegment buf = arena.allocate(MIB, 4096);
        Verbs verbs;
        int outstandingRecvs;
        final MemorySegment wc = arena.allocate(IbvWc.LAYOUT, 16);
        final MemorySegment sendWr = arena.allocate(IbvSendWr.LAYOUT);
        final MemorySegment sendSge = arena.allocate(IbvSge.LAYOUT);
        final MemorySegment recvWr = arena.allocate(IbvRecvWr.LAYOUT);
        final MemorySegment recvSge = arena.allocate(IbvSge.LAYOUT);
        final MemorySegment bad = arena.allocate(ADDRESS);

        End(String name) {
            this.name = name;
        }

        MemorySegment qp() {
            return IbvQp.of(RdmaCmId.qp(id));
        }

        /** PD, CQ, 1 MiB MR and an RC QP on the id's device context; then RECVS receives. */
        void setUp() throws Exception {
            MemorySegment ctx = RdmaCmId.verbs(id);
            verbs = Verbs.of(ctx);
            pd = own("PD (" + name + ")", Ibverbs.ibv_alloc_pd(ctx), () -> Ibverbs.ibv_dealloc_pd(pd));
            cq = own("CQ (" + name + ")", Ibverbs.ibv_create_cq(ctx, 512, MemorySegment.NULL, MemorySegment.NULL, 0),
                    () -> Ibverbs.ibv_destroy_cq(cq));
            mr = own("MR 1 MiB (" + name + ")", Ibverbs.ibv_reg_mr(pd, buf, Ibverbs.IBV_ACCESS_LOCAL_WRITE
                    | Ibverbs.IBV_ACCESS_REMOTE_WRITE | Ibverbs.IBV_ACCESS_REMOTE_READ), () -> Ibverbs.ibv_dereg_mr(mr));
            MemorySegment init = arena.allocate(IbvQpInitAttr.LAYOUT);
            IbvQpInitAttr.send_cq(init, cq);
            IbvQpInitAttr.recv_cq(init, cq);
            IbvQpInitAttr.cap(init, 256, RECVS, 1, 1, 0);
            IbvQpInitAttr.qp_type(init, Ibverbs.IBV_QPT_RC);
            Rdmacm.rdma_create_qp(id, pd, init);
            own("QP (" + name + ")", id, () -> {
                drainReceives();
                Rdmacm.rdma_destroy_qp(id);
            });
            for (int i = 0; i < RECVS; i++) {
                postRecv(i);
            }
        }

        void postRecv(int slot) throws Failed {
            IbvSge.set(recvSge, 0, buf.address() + RECV_AREA + (long) slot * MSG, MSG, IbvMr.lkey(mr));
            IbvRecvWr.wr_id(recvWr, 0, slot);
            IbvRecvWr.sg_list(recvWr, 0, recvSge, 1);
            int rc = verbs.ibv_post_recv(qp(), recvWr, bad);
            expect(rc == 0, name + " ibv_post_recv: " + Errno.describe(Math.abs(rc)));
            outstandingRecvs++;
        }

        void post(long wrId, int opcode, long localOffset, int length, long remoteAddr, int rkey, boolean signaled)
                throws Failed {
            IbvSge.set(sendSge, 0, buf.address() + localOffset, length, IbvMr.lkey(mr));
            IbvSendWr.wr_id(sendWr, 0, wrId);
            IbvSendWr.sg_list(sendWr, 0, sendSge, 1);
            IbvSendWr.opcode(sendWr, 0, opcode);
            IbvSendWr.send_flags(sendWr, 0, signaled ? Ibverbs.IBV_SEND_SIGNALED : 0);
            IbvSendWr.rdma(sendWr, 0, remoteAddr, rkey);
            int rc = verbs.ibv_post_send(qp(), sendWr, bad);
            expect(rc == 0, name + " ibv_post_send: " + Errno.describe(Math.abs(rc)));
        }

        /** Polls until a successful completion of {@code opcode} arrives; returns its index in {@link #wc}. */
        int await(int opcode) throws Failed {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (System.nanoTime() < deadline) {
                int n = verbs.ibv_poll_cq(cq, 1, wc);
                expect(n >= 0, name + " ibv_poll_cq returned " + n);
                if (n == 1) {
                    int status = IbvWc.status(wc, 0);
                    expect(status == Ibverbs.IBV_WC_SUCCESS, name + " completion of wr_id " + IbvWc.wr_id(wc, 0) + ": "
                            + Ibverbs.ibv_wc_status_str(status) + " (vendor_err 0x" + Integer.toHexString(IbvWc.vendor_err(wc, 0)) + ")");
                    expect(IbvWc.opcode(wc, 0) == opcode, name + " completion opcode " + IbvWc.opcode(wc, 0)
                            + ", expected " + opcode);
                    if (opcode == Ibverbs.IBV_WC_RECV) {
                        outstandingRecvs--;
                    }
                    return 0;
                }
            }
            throw new Failed(name + ": no completion of opcode " + opcode + " in 20 s");
        }

        /** Quiesce before free: the QP is in ERR after the disconnect, its receives come back flushed. */
        void drainReceives() {
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (outstandingRecvs > 0 && System.nanoTime() < deadline) {
                int n = verbs.ibv_poll_cq(cq, 16, wc);
                for (int i = 0; i < n; i++) {
                    if ((IbvWc.opcode(wc, i * IbvWc.SIZE) & Ibverbs.IBV_WC_RECV) != 0
                            || IbvWc.status(wc, i * IbvWc.SIZE) == Ibverbs.IBV_WC_WR_FLUSH_ERR) {
                        outstandingRecvs--;
                    }
                }
            }
            if (outstandingRecvs > 0) {
                drainNotes.append(name).append(": ").append(outstandingRecvs).append(" receives not flushed back; ");
            }
        }
    }

    private final StringBuilder drainNotes = new StringBuilder();

    private void rdmaCm() throws Failed {
        MemorySegment[] channel = new MemorySegment[1];
        MemorySegment[] listener = new MemorySegment[1];
        End client = new End("client");
        End server = new End("server");
        MemorySegment sin = arena.allocate(SockaddrIn.LAYOUT);
        SockaddrIn.sin_family(sin, io.sanport.bindings.libc.Libc.AF_INET);
        SockaddrIn.sin_port(sin, CM_PORT);
        SockaddrIn.sin_addr(sin, ADDRESS_V4);
        // NVMe/RDMA connect request (NVMe-oF 1.1 RDMA binding): RECFMT 0, QID 1, HRQSIZE 128, HSQSIZE 127, CNTLID 0x1234
        MemorySegment request = arena.allocate(32);
        request.set(JAVA_SHORT_LE, 2, (short) 1);
        request.set(JAVA_SHORT_LE, 4, (short) 128);
        request.set(JAVA_SHORT_LE, 6, (short) 127);
        request.set(JAVA_SHORT_LE, 8, (short) 0x1234);
        for (int i = 10; i < 32; i++) request.set(JAVA_BYTE, i, (byte) (0xA0 + i)); // reserved: filled to be seen
        MemorySegment accept = arena.allocate(32);
        accept.set(JAVA_SHORT_LE, 2, (short) 128);                                  // CRQSIZE
        for (int i = 4; i < 32; i++) accept.set(JAVA_BYTE, i, (byte) (0x50 + i));
        int rdAtom = Math.min(16, IbvDeviceAttr.max_qp_rd_atom(deviceAttr));

        step("RDMA CM: listen on 169.254.77.1:" + CM_PORT + " (rdma_create_event_channel, rdma_create_id, "
                + "rdma_bind_addr, rdma_listen)", () -> {
            channel[0] = own("CM event channel", Rdmacm.rdma_create_event_channel(),
                    () -> Rdmacm.rdma_destroy_event_channel(channel[0]));
            listener[0] = own("listening cm_id", Rdmacm.rdma_create_id(channel[0], MemorySegment.NULL, Rdmacm.RDMA_PS_TCP),
                    () -> Rdmacm.rdma_destroy_id(listener[0]));
            Rdmacm.rdma_bind_addr(listener[0], sin);
            Rdmacm.rdma_listen(listener[0], 8);
            return "bound to " + contextName(RdmaCmId.verbs(listener[0]));
        });
        step("RDMA CM: client resolves address and route, creates its QP (rdma_resolve_addr, rdma_create_qp, "
                + "rdma_resolve_route)", () -> {
            client.id = own("client cm_id", Rdmacm.rdma_create_id(channel[0], MemorySegment.NULL, Rdmacm.RDMA_PS_TCP),
                    () -> Rdmacm.rdma_destroy_id(client.id));
            Rdmacm.rdma_resolve_addr(client.id, MemorySegment.NULL, sin, 3000);
            expectEvent(channel[0], Rdmacm.RDMA_CM_EVENT_ADDR_RESOLVED, client.id);
            client.setUp();
            Rdmacm.rdma_resolve_route(client.id, 3000);
            expectEvent(channel[0], Rdmacm.RDMA_CM_EVENT_ROUTE_RESOLVED, client.id);
            byte[] src = SockaddrIn.sin_addr(RdmaCmId.src_sin(client.id));
            return "QP " + IbvQp.qp_num(client.qp()) + " from " + dotted(src) + ":"
                    + SockaddrIn.sin_port(RdmaCmId.src_sin(client.id)) + ", " + RECVS + " receives posted";
        });
        int[] seen = new int[3];
        step("RDMA CM: connect with 32 bytes of private data; the server sees them in CONNECT_REQUEST "
                + "(rdma_connect, rdma_get_cm_event)", () -> {
            MemorySegment param = arena.allocate(RdmaConnParam.LAYOUT);
            RdmaConnParam.private_data(param, 0, request);
            RdmaConnParam.responder_resources(param, 0, rdAtom);
            RdmaConnParam.initiator_depth(param, 0, rdAtom);
            RdmaConnParam.retry_count(param, 0, 7);
            RdmaConnParam.rnr_retry_count(param, 0, 7);
            Rdmacm.rdma_connect(client.id, param);
            MemorySegment event = Rdmacm.rdma_get_cm_event(channel[0]);
            try {
                expect(RdmaCmEvent.event(event) == Rdmacm.RDMA_CM_EVENT_CONNECT_REQUEST,
                        "got " + Rdmacm.rdma_event_str(RdmaCmEvent.event(event)) + " status " + RdmaCmEvent.status(event));
                expect(RdmaCmEvent.listen_id(event).address() == listener[0].address(), "listen_id is not our listener");
                MemorySegment data = RdmaCmEvent.private_data(event);
                seen[0] = (int) data.byteSize();
                expect(data.byteSize() >= 32, "private_data_len " + data.byteSize());
                expect(same(data, 0, request, 0, 32), "private data differs: " + hex(data, 32));
                boolean zeroPadded = true;
                for (long i = 32; i < data.byteSize(); i++) zeroPadded &= data.get(JAVA_BYTE, i) == 0;
                seen[1] = RdmaConnParam.responder_resources(event, RdmaCmEvent.PARAM_CONN);
                seen[2] = RdmaConnParam.initiator_depth(event, RdmaCmEvent.PARAM_CONN);
                server.id = own("server cm_id", RdmaCmEvent.id(event), () -> Rdmacm.rdma_destroy_id(server.id));
                return "private_data_len " + data.byteSize() + " (our 32 bytes, then " + (zeroPadded ? "zeros" : "NOT zeros")
                        + "), QID " + data.get(JAVA_SHORT_LE, 2) + " HRQSIZE " + data.get(JAVA_SHORT_LE, 4) + " HSQSIZE "
                        + data.get(JAVA_SHORT_LE, 6) + " CNTLID 0x" + Integer.toHexString(data.get(JAVA_SHORT_LE, 8))
                        + ", responder_resources " + seen[1] + ", initiator_depth " + seen[2] + ", rnr_retry_count "
                        + RdmaConnParam.rnr_retry_count(event, RdmaCmEvent.PARAM_CONN);
            } finally {
                Rdmacm.rdma_ack_cm_event(event);
            }
        });
        step("RDMA CM: server posts receives, accepts with private data; both ends ESTABLISHED, QPs in RTS "
                + "(rdma_accept)", () -> {
            server.setUp();
            expect(RdmaCmId.verbs(server.id).address() == RdmaCmId.verbs(client.id).address(),
                    "client and server ids on different contexts");
            MemorySegment param = arena.allocate(RdmaConnParam.LAYOUT);
            RdmaConnParam.private_data(param, 0, accept);
            RdmaConnParam.responder_resources(param, 0, Math.min(seen[2], rdAtom));
            RdmaConnParam.initiator_depth(param, 0, Math.min(seen[1], rdAtom));
            RdmaConnParam.rnr_retry_count(param, 0, 7);
            RdmaConnParam.flow_control(param, 0, 1);
            Rdmacm.rdma_accept(server.id, param);
            boolean clientUp = false, serverUp = false;
            String acceptSeen = "";
            while (!(clientUp && serverUp)) {
                MemorySegment event = Rdmacm.rdma_get_cm_event(channel[0]);
                try {
                    expect(RdmaCmEvent.event(event) == Rdmacm.RDMA_CM_EVENT_ESTABLISHED, "got "
                            + Rdmacm.rdma_event_str(RdmaCmEvent.event(event)) + " status " + RdmaCmEvent.status(event));
                    long id = RdmaCmEvent.id(event).address();
                    if (id == client.id.address()) {
                        MemorySegment data = RdmaCmEvent.private_data(event);
                        expect(data.byteSize() >= 32 && same(data, 0, accept, 0, 32),
                                "client sees accept private data " + hex(data, Math.min(32, data.byteSize())));
                        acceptSeen = "client got the accept's private data (private_data_len " + data.byteSize() + ")";
                        clientUp = true;
                    } else {
                        expect(id == server.id.address(), "ESTABLISHED on an unknown id");
                        serverUp = true;
                    }
                } finally {
                    Rdmacm.rdma_ack_cm_event(event);
                }
            }
            expect(IbvQp.state(client.qp()) == Ibverbs.IBV_QPS_RTS, "client QP " + Ibverbs.qpStateName(IbvQp.state(client.qp())));
            expect(IbvQp.state(server.qp()) == Ibverbs.IBV_QPS_RTS, "server QP " + Ibverbs.qpStateName(IbvQp.state(server.qp())));
            return acceptSeen + "; QP " + IbvQp.qp_num(client.qp()) + " <-> QP " + IbvQp.qp_num(server.qp()) + " RTS";
        });

        long[] clientKey = new long[2];
        long[] serverKey = new long[2];
        step("SEND/RECV 4 KiB client → server, carrying the client's address and rkey (ibv_post_send, "
                + "ibv_poll_cq via context->ops)", () -> {
            pattern(client.buf, 0, MSG, 21);
            client.buf.set(JAVA_LONG, 0, client.buf.address());       // a keyed-SGL-like descriptor up front
            client.buf.set(JAVA_INT, 8, IbvMr.rkey(client.mr));
            client.post(1, Ibverbs.IBV_WR_SEND, 0, MSG, 0, 0, true);
            int at = server.await(Ibverbs.IBV_WC_RECV);
            int slot = (int) IbvWc.wr_id(server.wc, at);
            expect(IbvWc.byte_len(server.wc, at) == MSG, "byte_len " + IbvWc.byte_len(server.wc, at));
            long recv = RECV_AREA + (long) slot * MSG;
            expect(same(server.buf, recv, client.buf, 0, MSG), "received bytes differ");
            clientKey[0] = server.buf.get(JAVA_LONG, recv);
            clientKey[1] = server.buf.get(JAVA_INT, recv + 8);
            server.postRecv(slot);
            client.await(Ibverbs.IBV_WC_SEND);
            return "server got " + MSG + " bytes in receive slot " + slot + ", verified; client's buffer 0x"
                    + Long.toHexString(clientKey[0]) + " rkey 0x" + Long.toHexString(clientKey[1]);
        });
        step("RDMA WRITE 256 KiB server → client, then SEND server → client; the client sees the written data "
                + "when the SEND arrives (RC ordering)", () -> {
            pattern(server.buf, WRITE_AREA, RDMA_BYTES, 22);
            client.buf.asSlice(WRITE_AREA, RDMA_BYTES).fill((byte) 0);
            server.post(2, Ibverbs.IBV_WR_RDMA_WRITE, WRITE_AREA, RDMA_BYTES, clientKey[0] + WRITE_AREA,
                    (int) clientKey[1], true);
            pattern(server.buf, 0, MSG, 23);
            server.buf.set(JAVA_LONG, 0, server.buf.address());
            server.buf.set(JAVA_INT, 8, IbvMr.rkey(server.mr));
            server.post(3, Ibverbs.IBV_WR_SEND, 0, MSG, 0, 0, true);
            int at = client.await(Ibverbs.IBV_WC_RECV);
            int slot = (int) IbvWc.wr_id(client.wc, at);
            long recv = RECV_AREA + (long) slot * MSG;
            expect(same(client.buf, recv, server.buf, 0, MSG), "SEND bytes differ");
            expect(same(client.buf, WRITE_AREA, server.buf, WRITE_AREA, RDMA_BYTES), "RDMA WRITE bytes differ");
            serverKey[0] = client.buf.get(JAVA_LONG, recv);
            serverKey[1] = client.buf.get(JAVA_INT, recv + 8);
            client.postRecv(slot);
            server.await(Ibverbs.IBV_WC_RDMA_WRITE);
            server.await(Ibverbs.IBV_WC_SEND);
            return RDMA_BYTES + " bytes written via wr.rdma.remote_addr/rkey and verified, then " + MSG + " bytes SEND verified";
        });
        step("RDMA READ 256 KiB client → server (initiated by the server)", () -> {
            pattern(client.buf, READ_AREA, RDMA_BYTES, 24);
            server.buf.asSlice(READ_AREA, RDMA_BYTES).fill((byte) 0);
            server.post(4, Ibverbs.IBV_WR_RDMA_READ, READ_AREA, RDMA_BYTES, clientKey[0] + READ_AREA,
                    (int) clientKey[1], true);
            server.await(Ibverbs.IBV_WC_RDMA_READ);
            expect(IbvWc.byte_len(server.wc, 0) == RDMA_BYTES || IbvWc.byte_len(server.wc, 0) == 0,
                    "byte_len " + IbvWc.byte_len(server.wc, 0));
            expect(same(server.buf, READ_AREA, client.buf, READ_AREA, RDMA_BYTES), "RDMA READ bytes differ");
            return RDMA_BYTES + " bytes read and verified";
        });
        step(String.format("RDMA WRITE bandwidth, %d KiB blocks, %d deep, %.0f s", BENCH_BLOCK / 1024, BENCH_DEPTH,
                benchSeconds), () -> {
            stepDeadline = System.nanoTime() + (long) ((benchSeconds + STEP_SECONDS) * 1e9);
            int slots = (int) ((MIB - WRITE_AREA) / BENCH_BLOCK);
            for (int s = 0; s < slots; s++) {
                pattern(client.buf, WRITE_AREA + (long) s * BENCH_BLOCK, BENCH_BLOCK, 100 + s);
            }
            long posted = 0, completed = 0;   // wr_id = sequence number; a signaled completion retires all before it
            long t0 = System.nanoTime();
            long end = t0 + (long) (benchSeconds * 1e9);
            boolean stop = false;
            while (true) {
                if (!stop && System.nanoTime() >= end) {
                    stop = true;
                    if (posted % BENCH_SIGNAL_EVERY != 0) {   // signal the tail, or it is never seen to complete
                        long off = WRITE_AREA + (posted % slots) * BENCH_BLOCK;
                        client.post(posted + 1, Ibverbs.IBV_WR_RDMA_WRITE, off, BENCH_BLOCK, serverKey[0] + off,
                                (int) serverKey[1], true);
                        posted++;
                    }
                }
                if (stop && completed == posted) {
                    break;
                }
                while (!stop && posted - completed < BENCH_DEPTH) {
                    long off = WRITE_AREA + (posted % slots) * BENCH_BLOCK;
                    client.post(posted + 1, Ibverbs.IBV_WR_RDMA_WRITE, off, BENCH_BLOCK, serverKey[0] + off,
                            (int) serverKey[1], (posted + 1) % BENCH_SIGNAL_EVERY == 0);
                    posted++;
                }
                int n = client.verbs.ibv_poll_cq(client.cq, 16, client.wc);
                expect(n >= 0, "ibv_poll_cq returned " + n);
                for (int i = 0; i < n; i++) {
                    long at = i * IbvWc.SIZE;
                    expect(IbvWc.status(client.wc, at) == Ibverbs.IBV_WC_SUCCESS, "write " + IbvWc.wr_id(client.wc, at)
                            + ": " + Ibverbs.ibv_wc_status_str(IbvWc.status(client.wc, at)));
                    completed = Math.max(completed, IbvWc.wr_id(client.wc, at));
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long writes = completed;
            double mibs = writes * (double) BENCH_BLOCK / MIB / seconds;
            expect(same(server.buf, WRITE_AREA, client.buf, WRITE_AREA, (int) (MIB - WRITE_AREA)),
                    "the server's buffer differs from the written blocks");
            System.out.printf("JAVA_WRITE_BW_MIBS=%.2f%n", mibs);
            return String.format("%d writes in %.2f s = %.2f MiB/s (%.0f writes/s); target verified", writes, seconds,
                    mibs, writes / seconds);
        });
        step("disconnect: the client disconnects, the server answers; DISCONNECTED on both ends (rdma_disconnect)", () -> {
            Rdmacm.rdma_disconnect(client.id);
            boolean clientDown = false, serverDown = false;
            while (!(clientDown && serverDown)) {
                MemorySegment event = Rdmacm.rdma_get_cm_event(channel[0]);
                try {
                    expect(RdmaCmEvent.event(event) == Rdmacm.RDMA_CM_EVENT_DISCONNECTED, "got "
                            + Rdmacm.rdma_event_str(RdmaCmEvent.event(event)));
                    long id = RdmaCmEvent.id(event).address();
                    clientDown |= id == client.id.address();
                    if (id == server.id.address() && !serverDown) {
                        // the peer's DREQ arrived: answer it (DREP), as nvmet does; the client's DISCONNECTED follows
                        Rdmacm.rdma_disconnect(server.id);
                        serverDown = true;
                    }
                } finally {
                    Rdmacm.rdma_ack_cm_event(event);
                }
            }
            return "client and server QPs now " + Ibverbs.qpStateName(IbvQp.state(client.qp())) + " / "
                    + Ibverbs.qpStateName(IbvQp.state(server.qp()));
        });
    }

    private static final java.lang.foreign.ValueLayout.OfShort JAVA_SHORT_LE =
            JAVA_SHORT.withOrder(ByteOrder.LITTLE_ENDIAN).withByteAlignment(1);

    private void expectEvent(MemorySegment channel, int type, MemorySegment id) throws Exception {
        MemorySegment event = Rdmacm.rdma_get_cm_event(channel);
        try {
            expect(RdmaCmEvent.event(event) == type, "expected " + Rdmacm.rdma_event_str(type) + ", got "
                    + Rdmacm.rdma_event_str(RdmaCmEvent.event(event)) + " status " + RdmaCmEvent.status(event));
            expect(RdmaCmEvent.id(event).address() == id.address(), "event for another id");
        } finally {
            Rdmacm.rdma_ack_cm_event(event);
        }
    }

    // ---------------------------------------------------------------- 3. teardown

    private void teardown() {
        step = "teardown";
        stepDeadline = System.nanoTime() + STEP_SECONDS * 1_000_000_000L;
        int destroyed = 0;
        StringBuilder order = new StringBuilder();
        StringBuilder errors = new StringBuilder();
        while (!live.isEmpty()) {
            Owned o = live.pop();
            try {
                o.destroy().run();
                destroyed++;
            } catch (Exception | Error e) {
                errors.append(o.name()).append(": ").append(e.getMessage()).append("; ");
            }
            order.append(order.isEmpty() ? "" : ", ").append(o.name());
        }
        stepDeadline = Long.MAX_VALUE;
        if (errors.isEmpty() && destroyed == created) {
            passed++;
            System.out.println("PASS teardown: " + destroyed + " of " + created + " resources destroyed once each, newest first: "
                    + order + (drainNotes.isEmpty() ? "" : " (" + drainNotes.toString().trim() + ")"));
        } else {
            failed++;
            System.out.println("FAIL teardown: " + destroyed + " of " + created + " destroyed; " + errors + " order: " + order);
        }
        arena.close();
    }

    // ---------------------------------------------------------------- helpers

    private static void pattern(MemorySegment s, long offset, int length, int seed) {
        for (int i = 0; i < length; i += 8) {
            long v = (seed * 0x9E3779B97F4A7C15L) ^ ((offset + i) * 0xC2B2AE3D27D4EB4FL);
            s.set(JAVA_LONG, offset + i, v ^ (v >>> 29));
        }
    }

    private static boolean same(MemorySegment a, long aOff, MemorySegment b, long bOff, long length) {
        return MemorySegment.mismatch(a, aOff, aOff + length, b, bOff, bOff + length) == -1;
    }

    private static String hex(MemorySegment s, long n) {
        return java.util.HexFormat.of().formatHex(s.asSlice(0, n).toArray(JAVA_BYTE));
    }

    private static String dotted(byte[] a) {
        return (a[0] & 255) + "." + (a[1] & 255) + "." + (a[2] & 255) + "." + (a[3] & 255);
    }

    private static String contextName(MemorySegment verbsContext) {
        if (verbsContext.equals(MemorySegment.NULL)) return "no device yet";
        MemorySegment ctx = io.sanport.bindings.verbs.IbvContext.of(verbsContext);
        return "device context 0x" + Long.toHexString(ctx.address()) + " (cmd_fd "
                + io.sanport.bindings.verbs.IbvContext.cmd_fd(ctx) + ")";
    }
}
