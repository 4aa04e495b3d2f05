package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sanport.bindings.Native;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * libibverbs on a machine without RDMA hardware (the build machines): the library loads, the device list is
 * what the kernel says (none here), and the data path dispatches through {@code context->ops} — proven with a
 * fake provider whose ops are Java upcalls. The real device is exercised in the VM (SoftRoceProof).
 */
class IbverbsTest {

    @Test
    void deviceListMatchesTheKernelAndNoDeviceIsNotAnError() throws Exception {
        assumeTrue(Ibverbs.unavailableReason() == null, Ibverbs.unavailableReason());
        List<String> sysfs = sysfsDevices();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment num = arena.allocate(JAVA_INT);
            num.set(JAVA_INT, 0, -1);
            MemorySegment list = Ibverbs.ibv_get_device_list(num);
            assertEquals(sysfs.size(), num.get(JAVA_INT, 0), "devices in /sys/class/infiniband: " + sysfs);
            List<String> names = new ArrayList<>();
            for (int i = 0; i < num.get(JAVA_INT, 0); i++) {
                names.add(Ibverbs.ibv_get_device_name(list.getAtIndex(ADDRESS, i)));
            }
            Ibverbs.ibv_free_device_list(list);
            assertEquals(sysfs, names.stream().sorted().toList());
        }
        assertEquals(sysfs, Ibverbs.deviceNames().stream().sorted().toList());
    }

    @Test
    void completionStatusInWords() {
        assumeTrue(Ibverbs.unavailableReason() == null, Ibverbs.unavailableReason());
        assertEquals("success", Ibverbs.ibv_wc_status_str(Ibverbs.IBV_WC_SUCCESS));
        assertEquals("transport retry counter exceeded", Ibverbs.ibv_wc_status_str(Ibverbs.IBV_WC_RETRY_EXC_ERR));
        assertEquals("remote access error", Ibverbs.ibv_wc_status_str(Ibverbs.IBV_WC_REM_ACCESS_ERR));
    }

    @Test
    void noContextIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Verbs.of(MemorySegment.NULL));
    }

    // A fake provider: what each op was called with.
    static final List<String> calls = new ArrayList<>();

    static int postSend(MemorySegment qp, MemorySegment wr, MemorySegment bad) {
        calls.add("post_send qp=" + qp.address() + " wr_id=" + IbvSendWr.wr_id(wr.reinterpret(IbvSendWr.SIZE), 0));
        return 0;
    }

    static int postRecv(MemorySegment qp, MemorySegment wr, MemorySegment bad) {
        calls.add("post_recv qp=" + qp.address());
        bad.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, wr);
        return 12; // ENOMEM, with *bad_wr set, as a full receive queue reports it
    }

    static int postSrqRecv(MemorySegment srq, MemorySegment wr, MemorySegment bad) {
        calls.add("post_srq_recv srq=" + srq.address());
        return 0;
    }

    static int pollCq(MemorySegment cq, int n, MemorySegment wc) {
        calls.add("poll_cq n=" + n);
        MemorySegment entry = wc.reinterpret(IbvWc.SIZE);
        entry.set(java.lang.foreign.ValueLayout.JAVA_LONG, IbvWc.WR_ID, 77L);
        entry.set(JAVA_INT, IbvWc.OPCODE, Ibverbs.IBV_WC_RDMA_WRITE);
        return 1;
    }

    static int reqNotifyCq(MemorySegment cq, int solicitedOnly) {
        calls.add("req_notify_cq solicited=" + solicitedOnly);
        return 0;
    }

    @Test
    void dataPathGoesThroughTheContextOpsTable() throws Exception {
        calls.clear();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment context = arena.allocate(IbvContext.LAYOUT);
            FunctionDescriptor post = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
            setOp(arena, context, IbvContextOps.POST_SEND, "postSend", post);
            setOp(arena, context, IbvContextOps.POST_RECV, "postRecv", post);
            setOp(arena, context, IbvContextOps.POST_SRQ_RECV, "postSrqRecv", post);
            setOp(arena, context, IbvContextOps.POLL_CQ, "pollCq", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
            setOp(arena, context, IbvContextOps.REQ_NOTIFY_CQ, "reqNotifyCq", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

            Verbs verbs = Verbs.of(context);
            MemorySegment qp = arena.allocate(IbvQp.LAYOUT);
            MemorySegment wr = arena.allocate(IbvSendWr.LAYOUT);
            IbvSendWr.wr_id(wr, 0, 42);
            MemorySegment bad = arena.allocate(ADDRESS);
            assertEquals(0, verbs.ibv_post_send(qp, wr, bad));
            MemorySegment rwr = arena.allocate(IbvRecvWr.LAYOUT);
            assertEquals(12, verbs.ibv_post_recv(qp, rwr, bad));
            assertEquals(rwr.address(), bad.get(ADDRESS, 0).address(), "bad_wr names the refused WR");
            assertEquals(0, verbs.ibv_post_srq_recv(qp, rwr, bad));
            MemorySegment wc = arena.allocate(IbvWc.LAYOUT, 4);
            assertEquals(1, verbs.ibv_poll_cq(qp, 4, wc));
            assertEquals(77L, IbvWc.wr_id(wc, 0));
            assertEquals(Ibverbs.IBV_WC_RDMA_WRITE, IbvWc.opcode(wc, 0));
            assertEquals(0, verbs.ibv_req_notify_cq(qp, 1));
            assertEquals(List.of("post_send qp=" + qp.address() + " wr_id=42", "post_recv qp=" + qp.address(),
                    "post_srq_recv srq=" + qp.address(), "poll_cq n=4", "req_notify_cq solicited=1"), calls);
        }
    }

    @Test
    void aProviderWithoutTheDataPathIsRefusedInWords() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment context = arena.allocate(IbvContext.LAYOUT);
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> Verbs.of(context));
            assertTrue(e.getMessage().contains("post_send"), e.getMessage());
        }
    }

    private static void setOp(Arena arena, MemorySegment context, long op, String method, FunctionDescriptor fd)
            throws ReflectiveOperationException {
        MethodType type = fd.toMethodType();
        MemorySegment stub = Native.LINKER.upcallStub(
                MethodHandles.lookup().findStatic(IbverbsTest.class, method, type), fd, arena);
        context.set(ADDRESS, IbvContext.OPS + op, stub);
    }

    private static List<String> sysfsDevices() throws IOException {
        Path sysfs = Path.of("/sys/class/infiniband");
        if (!Files.isDirectory(sysfs)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(sysfs)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
