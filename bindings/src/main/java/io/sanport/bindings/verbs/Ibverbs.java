package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * libibverbs ({@code <infiniband/verbs.h>}, rdma-core 44, Debian's libibverbs1) as listed in
 * native-headers/libibverbs.bind: the exported control-path functions and the enums sanport uses.
 * The data path ({@code ibv_post_send}, {@code ibv_post_recv}, {@code ibv_post_srq_recv}, {@code ibv_poll_cq},
 * {@code ibv_req_notify_cq}) is static inline in C, calling through {@code context->ops}: see {@link Verbs}.
 *
 * <p>Errors: functions returning a pointer give NULL and set errno; functions returning int give an errno value
 * (rdma-core) or -1 and errno (older providers). Both become an {@link ErrnoException} naming the call.
 * Symbols are resolved by name, which gives each one's default version (the {@code @@IBVERBS_1.1} entries,
 * not the 1.0 compat ones).
 */
public final class Ibverbs {
    private Ibverbs() {}

    public static final String SONAME = "libibverbs.so.1";
    private static final Optional<SymbolLookup> LIB = Native.library(SONAME);

    /** Why libibverbs cannot be used here, or null when it can. */
    public static String unavailableReason() {
        return LIB.isPresent() ? null
                : SONAME + " is not installed: install Debian's libibverbs1 and ibverbs-providers packages";
    }

    // enum ibv_access_flags
    public static final int IBV_ACCESS_LOCAL_WRITE = 1;
    public static final int IBV_ACCESS_REMOTE_WRITE = 1 << 1;
    public static final int IBV_ACCESS_REMOTE_READ = 1 << 2;
    public static final int IBV_ACCESS_REMOTE_ATOMIC = 1 << 3;
    public static final int IBV_ACCESS_RELAXED_ORDERING = 1 << 20;
    /** Flags that need {@code ibv_reg_mr_iova2}; masked off by libibverbs when the kernel lacks them. */
    public static final int IBV_ACCESS_OPTIONAL_RANGE = 0x3ff00000;
    // enum ibv_device_cap_flags
    public static final int IBV_DEVICE_MEM_MGT_EXTENSIONS = 1 << 21;
    // enum ibv_port_state
    public static final int IBV_PORT_DOWN = 1;
    public static final int IBV_PORT_INIT = 2;
    public static final int IBV_PORT_ARMED = 3;
    public static final int IBV_PORT_ACTIVE = 4;
    // enum ibv_mtu
    public static final int IBV_MTU_256 = 1;
    public static final int IBV_MTU_512 = 2;
    public static final int IBV_MTU_1024 = 3;
    public static final int IBV_MTU_2048 = 4;
    public static final int IBV_MTU_4096 = 5;
    // IBV_LINK_LAYER_*
    public static final int IBV_LINK_LAYER_INFINIBAND = 1;
    public static final int IBV_LINK_LAYER_ETHERNET = 2;
    // enum ibv_qp_type
    public static final int IBV_QPT_RC = 2;
    public static final int IBV_QPT_UC = 3;
    public static final int IBV_QPT_UD = 4;
    // enum ibv_qp_state
    public static final int IBV_QPS_RESET = 0;
    public static final int IBV_QPS_INIT = 1;
    public static final int IBV_QPS_RTR = 2;
    public static final int IBV_QPS_RTS = 3;
    public static final int IBV_QPS_SQD = 4;
    public static final int IBV_QPS_SQE = 5;
    public static final int IBV_QPS_ERR = 6;
    // enum ibv_qp_attr_mask
    public static final int IBV_QP_STATE = 1;
    public static final int IBV_QP_ACCESS_FLAGS = 1 << 3;
    public static final int IBV_QP_PKEY_INDEX = 1 << 4;
    public static final int IBV_QP_PORT = 1 << 5;
    public static final int IBV_QP_QKEY = 1 << 6;
    public static final int IBV_QP_AV = 1 << 7;
    public static final int IBV_QP_PATH_MTU = 1 << 8;
    public static final int IBV_QP_TIMEOUT = 1 << 9;
    public static final int IBV_QP_RETRY_CNT = 1 << 10;
    public static final int IBV_QP_RNR_RETRY = 1 << 11;
    public static final int IBV_QP_RQ_PSN = 1 << 12;
    public static final int IBV_QP_MAX_QP_RD_ATOMIC = 1 << 13;
    public static final int IBV_QP_MIN_RNR_TIMER = 1 << 15;
    public static final int IBV_QP_SQ_PSN = 1 << 16;
    public static final int IBV_QP_MAX_DEST_RD_ATOMIC = 1 << 17;
    public static final int IBV_QP_CAP = 1 << 19;
    public static final int IBV_QP_DEST_QPN = 1 << 20;
    // enum ibv_wr_opcode
    public static final int IBV_WR_RDMA_WRITE = 0;
    public static final int IBV_WR_RDMA_WRITE_WITH_IMM = 1;
    public static final int IBV_WR_SEND = 2;
    public static final int IBV_WR_SEND_WITH_IMM = 3;
    public static final int IBV_WR_RDMA_READ = 4;
    public static final int IBV_WR_LOCAL_INV = 7;
    public static final int IBV_WR_SEND_WITH_INV = 9;
    // enum ibv_send_flags
    public static final int IBV_SEND_FENCE = 1;
    public static final int IBV_SEND_SIGNALED = 1 << 1;
    public static final int IBV_SEND_SOLICITED = 1 << 2;
    public static final int IBV_SEND_INLINE = 1 << 3;
    // enum ibv_wc_status
    public static final int IBV_WC_SUCCESS = 0;
    public static final int IBV_WC_LOC_LEN_ERR = 1;
    public static final int IBV_WC_LOC_QP_OP_ERR = 2;
    public static final int IBV_WC_LOC_PROT_ERR = 4;
    public static final int IBV_WC_WR_FLUSH_ERR = 5;
    public static final int IBV_WC_BAD_RESP_ERR = 7;
    public static final int IBV_WC_REM_INV_REQ_ERR = 9;
    public static final int IBV_WC_REM_ACCESS_ERR = 10;
    public static final int IBV_WC_REM_OP_ERR = 11;
    public static final int IBV_WC_RETRY_EXC_ERR = 12;
    public static final int IBV_WC_RNR_RETRY_EXC_ERR = 13;
    public static final int IBV_WC_REM_INV_RD_REQ_ERR = 15;
    public static final int IBV_WC_REM_ABORT_ERR = 16;
    public static final int IBV_WC_FATAL_ERR = 19;
    public static final int IBV_WC_RESP_TIMEOUT_ERR = 20;
    public static final int IBV_WC_GENERAL_ERR = 21;
    /** enum ibv_wc_status by value (verbs.h), for messages that must not depend on libibverbs being loadable. */
    private static final String[] WC_STATUS_NAMES = {"SUCCESS", "LOC_LEN_ERR", "LOC_QP_OP_ERR", "LOC_EEC_OP_ERR",
            "LOC_PROT_ERR", "WR_FLUSH_ERR", "MW_BIND_ERR", "BAD_RESP_ERR", "LOC_ACCESS_ERR", "REM_INV_REQ_ERR",
            "REM_ACCESS_ERR", "REM_OP_ERR", "RETRY_EXC_ERR", "RNR_RETRY_EXC_ERR", "LOC_RDD_VIOL_ERR",
            "REM_INV_RD_REQ_ERR", "REM_ABORT_ERR", "INV_EECN_ERR", "INV_EEC_STATE_ERR", "FATAL_ERR",
            "RESP_TIMEOUT_ERR", "GENERAL_ERR", "TM_ERR", "TM_RNDV_INCOMPLETE"};
    // enum ibv_wc_opcode
    public static final int IBV_WC_SEND = 0;
    public static final int IBV_WC_RDMA_WRITE = 1;
    public static final int IBV_WC_RDMA_READ = 2;
    public static final int IBV_WC_LOCAL_INV = 6;
    /** Set in every receive completion's opcode: test {@code (opcode & IBV_WC_RECV) != 0}. */
    public static final int IBV_WC_RECV = 1 << 7;
    public static final int IBV_WC_RECV_RDMA_WITH_IMM = IBV_WC_RECV + 1;
    // enum ibv_wc_flags
    public static final int IBV_WC_GRH = 1;
    public static final int IBV_WC_WITH_IMM = 1 << 1;
    public static final int IBV_WC_WITH_INV = 1 << 3;

    private static final Linker.Option ERRNO = Native.CAPTURE_ERRNO;
    private static final FunctionDescriptor INT_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor PTR_PTR = FunctionDescriptor.of(ADDRESS, ADDRESS);

    private static final MethodHandle GET_DEVICE_LIST = Native.downcallOrNull(LIB, "ibv_get_device_list", PTR_PTR, ERRNO);
    private static final MethodHandle FREE_DEVICE_LIST = Native.downcallOrNull(LIB, "ibv_free_device_list",
            FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle GET_DEVICE_NAME = Native.downcallOrNull(LIB, "ibv_get_device_name", PTR_PTR);
    private static final MethodHandle OPEN_DEVICE = Native.downcallOrNull(LIB, "ibv_open_device", PTR_PTR, ERRNO);
    private static final MethodHandle CLOSE_DEVICE = Native.downcallOrNull(LIB, "ibv_close_device", INT_PTR, ERRNO);
    private static final MethodHandle QUERY_DEVICE = Native.downcallOrNull(LIB, "ibv_query_device",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle QUERY_PORT = Native.downcallOrNull(LIB, "ibv_query_port",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BYTE, ADDRESS), ERRNO);
    private static final MethodHandle QUERY_GID = Native.downcallOrNull(LIB, "ibv_query_gid",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BYTE, JAVA_INT, ADDRESS), ERRNO);
    private static final MethodHandle ALLOC_PD = Native.downcallOrNull(LIB, "ibv_alloc_pd", PTR_PTR, ERRNO);
    private static final MethodHandle DEALLOC_PD = Native.downcallOrNull(LIB, "ibv_dealloc_pd", INT_PTR, ERRNO);
    private static final MethodHandle REG_MR = Native.downcallOrNull(LIB, "ibv_reg_mr",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT), ERRNO);
    private static final MethodHandle REG_MR_IOVA2 = Native.downcallOrNull(LIB, "ibv_reg_mr_iova2",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT), ERRNO);
    private static final MethodHandle DEREG_MR = Native.downcallOrNull(LIB, "ibv_dereg_mr", INT_PTR, ERRNO);
    private static final MethodHandle CREATE_COMP_CHANNEL = Native.downcallOrNull(LIB, "ibv_create_comp_channel",
            PTR_PTR, ERRNO);
    private static final MethodHandle DESTROY_COMP_CHANNEL = Native.downcallOrNull(LIB, "ibv_destroy_comp_channel",
            INT_PTR, ERRNO);
    private static final MethodHandle CREATE_CQ = Native.downcallOrNull(LIB, "ibv_create_cq",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle DESTROY_CQ = Native.downcallOrNull(LIB, "ibv_destroy_cq", INT_PTR, ERRNO);
    private static final MethodHandle GET_CQ_EVENT = Native.downcallOrNull(LIB, "ibv_get_cq_event",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle ACK_CQ_EVENTS = Native.downcallOrNull(LIB, "ibv_ack_cq_events",
            FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
    private static final MethodHandle CREATE_SRQ = Native.downcallOrNull(LIB, "ibv_create_srq",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle DESTROY_SRQ = Native.downcallOrNull(LIB, "ibv_destroy_srq", INT_PTR, ERRNO);
    private static final MethodHandle CREATE_QP = Native.downcallOrNull(LIB, "ibv_create_qp",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle DESTROY_QP = Native.downcallOrNull(LIB, "ibv_destroy_qp", INT_PTR, ERRNO);
    private static final MethodHandle MODIFY_QP = Native.downcallOrNull(LIB, "ibv_modify_qp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle WC_STATUS_STR = Native.downcallOrNull(LIB, "ibv_wc_status_str",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static MethodHandle need(MethodHandle handle) {
        if (handle == null) {
            throw new UnsupportedOperationException(unavailableReason() != null ? unavailableReason()
                    : "this libibverbs lacks a function sanport needs: install libibverbs1 from rdma-core >= 44");
        }
        return handle;
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    /** A returned pointer, sized to {@code size}; NULL becomes the call's errno in words. */
    private static MemorySegment pointer(MemorySegment p, MemorySegment state, long size, String call, Object subject,
                                         String hint) throws ErrnoException {
        if (p.equals(MemorySegment.NULL)) {
            int errno = Native.errno(state);
            throw new ErrnoException(call, subject, errno == 0 ? Errno.EIO : errno, hint);
        }
        return p.reinterpret(size);
    }

    /** An int result: 0 is success; a positive value is an errno; -1 means "see errno"; other negatives -errno. */
    private static void check(int rc, MemorySegment state, String call, Object subject) throws ErrnoException {
        if (rc != 0) {
            int errno = rc > 0 ? rc : rc == -1 ? Native.errno(state) : -rc;
            throw new ErrnoException(call, subject, errno == 0 ? Errno.EIO : errno);
        }
    }

    /**
     * The device array ({@code struct ibv_device *[]}, NULL-terminated; {@code numDevices} gets the count), to be
     * given back with {@link #ibv_free_device_list}. A kernel without RDMA (no ib_uverbs: libibverbs says ENOSYS)
     * has no devices: that gives 0 and a NULL list, which {@link #ibv_free_device_list} accepts.
     */
    public static MemorySegment ibv_get_device_list(MemorySegment numDevices) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            numDevices.set(JAVA_INT, 0, 0);
            MemorySegment list = (MemorySegment) need(GET_DEVICE_LIST).invokeExact(st, numDevices);
            if (list.equals(MemorySegment.NULL) && Native.errno(st) == Errno.ENOSYS) {
                numDevices.set(JAVA_INT, 0, 0);
                return MemorySegment.NULL;
            }
            int n = numDevices.get(JAVA_INT, 0);
            return pointer(list, st, (n + 1) * ADDRESS.byteSize(), "ibv_get_device_list", null,
                    "is ib_uverbs loaded (modprobe ib_uverbs)?");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Frees the array (not the devices: contexts opened from it stay valid). NULL is accepted. */
    public static void ibv_free_device_list(MemorySegment list) {
        if (list.equals(MemorySegment.NULL)) {
            return;
        }
        try {
            need(FREE_DEVICE_LIST).invokeExact(list);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The kernel's name of a device ({@code rxe0}, {@code mlx5_0}). */
    public static String ibv_get_device_name(MemorySegment device) {
        try {
            MemorySegment name = (MemorySegment) need(GET_DEVICE_NAME).invokeExact(device);
            return name.equals(MemorySegment.NULL) ? null : name.reinterpret(64).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The names of all RDMA devices, through the device list; empty when there is none. */
    public static List<String> deviceNames() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment num = arena.allocate(JAVA_INT);
            MemorySegment list = ibv_get_device_list(num);
            try {
                List<String> names = new ArrayList<>();
                for (int i = 0; i < num.get(JAVA_INT, 0); i++) {
                    names.add(ibv_get_device_name(list.getAtIndex(ADDRESS, i)));
                }
                return names;
            } finally {
                ibv_free_device_list(list);
            }
        }
    }

    /** An {@link IbvContext} of the device; close with {@link #ibv_close_device}. */
    public static MemorySegment ibv_open_device(MemorySegment device) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment ctx = (MemorySegment) need(OPEN_DEVICE).invokeExact(st, device);
            return pointer(ctx, st, IbvContext.LAYOUT.byteSize(), "ibv_open_device", ibv_get_device_name(device),
                    "is /dev/infiniband/uverbsN there and accessible?");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void ibv_close_device(MemorySegment context) throws ErrnoException {
        call(CLOSE_DEVICE, "ibv_close_device", context);
    }

    /** Fills {@code attr} (an {@link IbvDeviceAttr}). */
    public static void ibv_query_device(MemorySegment context, MemorySegment attr) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(QUERY_DEVICE).invokeExact(st, context, attr), st, "ibv_query_device", null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Fills {@code attr} (an {@link IbvPortAttr}). In C {@code ibv_query_port} is a macro over the inline
     * {@code ___ibv_query_port}, which asks the provider's extended op with the full size; this calls the exported
     * {@code ibv_query_port@@IBVERBS_1.1} that the inline falls back to. It fills everything up to {@code flags}
     * (rdma-core's {@code _compat_ibv_port_attr}); the rest is zeroed here, as the inline does.
     */
    public static void ibv_query_port(MemorySegment context, int portNum, MemorySegment attr) throws ErrnoException {
        attr.fill((byte) 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(QUERY_PORT).invokeExact(st, context, (byte) portNum, attr), st, "ibv_query_port",
                    "port " + portNum);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Fills {@code gid} (an {@link IbvGid}) with entry {@code index} of the port's GID table. */
    public static void ibv_query_gid(MemorySegment context, int portNum, int index, MemorySegment gid)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(QUERY_GID).invokeExact(st, context, (byte) portNum, index, gid), st, "ibv_query_gid",
                    "port " + portNum + " index " + index);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An {@link IbvPd}; free with {@link #ibv_dealloc_pd}. */
    public static MemorySegment ibv_alloc_pd(MemorySegment context) throws ErrnoException {
        return create(ALLOC_PD, "ibv_alloc_pd", context, IbvPd.LAYOUT.byteSize(), null);
    }

    public static void ibv_dealloc_pd(MemorySegment pd) throws ErrnoException {
        call(DEALLOC_PD, "ibv_dealloc_pd", pd);
    }

    /**
     * Registers {@code buffer} with {@code IBV_ACCESS_*} flags; returns an {@link IbvMr}. In C {@code ibv_reg_mr}
     * is a macro choosing between the exported {@code ibv_reg_mr} and {@code ibv_reg_mr_iova2} (when an optional
     * access flag such as RELAXED_ORDERING is asked for); this makes the same choice.
     */
    public static MemorySegment ibv_reg_mr(MemorySegment pd, MemorySegment buffer, int access) throws ErrnoException {
        if ((access & IBV_ACCESS_OPTIONAL_RANGE) != 0) {
            return ibv_reg_mr_iova2(pd, buffer, buffer.address(), access);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment mr = (MemorySegment) need(REG_MR).invokeExact(st, pd, buffer, buffer.byteSize(), access);
            return pointer(mr, st, IbvMr.LAYOUT.byteSize(), "ibv_reg_mr", buffer.byteSize() + " bytes", MEMLOCK_HINT);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Registers {@code buffer} to be addressed by peers as {@code iova}; returns an {@link IbvMr}. */
    public static MemorySegment ibv_reg_mr_iova2(MemorySegment pd, MemorySegment buffer, long iova, int access)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment mr = (MemorySegment) need(REG_MR_IOVA2).invokeExact(st, pd, buffer, buffer.byteSize(), iova,
                    access);
            return pointer(mr, st, IbvMr.LAYOUT.byteSize(), "ibv_reg_mr_iova2", buffer.byteSize() + " bytes",
                    MEMLOCK_HINT);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final String MEMLOCK_HINT = "registration pins memory: raise RLIMIT_MEMLOCK (ulimit -l unlimited) "
            + "or give the process CAP_IPC_LOCK";

    public static void ibv_dereg_mr(MemorySegment mr) throws ErrnoException {
        call(DEREG_MR, "ibv_dereg_mr", mr);
    }

    /** An {@link IbvCompChannel}; destroy after every CQ using it. */
    public static MemorySegment ibv_create_comp_channel(MemorySegment context) throws ErrnoException {
        return create(CREATE_COMP_CHANNEL, "ibv_create_comp_channel", context, IbvCompChannel.LAYOUT.byteSize(), null);
    }

    public static void ibv_destroy_comp_channel(MemorySegment channel) throws ErrnoException {
        call(DESTROY_COMP_CHANNEL, "ibv_destroy_comp_channel", channel);
    }

    /**
     * An {@link IbvCq} of at least {@code cqe} entries. {@code channel} may be NULL (poll only);
     * {@code cqContext} comes back from {@link #ibv_get_cq_event} through the CQ.
     */
    public static MemorySegment ibv_create_cq(MemorySegment context, int cqe, MemorySegment cqContext,
                                              MemorySegment channel, int compVector) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment cq = (MemorySegment) need(CREATE_CQ).invokeExact(st, context, cqe, cqContext, channel,
                    compVector);
            return pointer(cq, st, IbvCq.LAYOUT.byteSize(), "ibv_create_cq", cqe + " entries", null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Fails with EBUSY while a QP or an unacknowledged event still refers to the CQ. */
    public static void ibv_destroy_cq(MemorySegment cq) throws ErrnoException {
        call(DESTROY_CQ, "ibv_destroy_cq", cq);
    }

    /**
     * Blocks until the channel has an event (unless its fd is non-blocking) and returns the CQ that has one.
     * Every event must be acknowledged with {@link #ibv_ack_cq_events} before the CQ is destroyed.
     */
    public static MemorySegment ibv_get_cq_event(MemorySegment channel) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment cq = arena.allocate(ADDRESS);
            MemorySegment cqContext = arena.allocate(ADDRESS);
            check((int) need(GET_CQ_EVENT).invokeExact(st, channel, cq, cqContext), st, "ibv_get_cq_event", null);
            return cq.get(ADDRESS, 0).reinterpret(IbvCq.LAYOUT.byteSize());
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void ibv_ack_cq_events(MemorySegment cq, int count) {
        try {
            need(ACK_CQ_EVENTS).invokeExact(cq, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An {@link IbvSrq}; {@code initAttr} ({@link IbvSrqInitAttr}) gets the granted depth back. */
    public static MemorySegment ibv_create_srq(MemorySegment pd, MemorySegment initAttr) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment srq = (MemorySegment) need(CREATE_SRQ).invokeExact(st, pd, initAttr);
            return pointer(srq, st, IbvSrq.LAYOUT.byteSize(), "ibv_create_srq",
                    IbvSrqInitAttr.max_wr(initAttr) + " receives", null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void ibv_destroy_srq(MemorySegment srq) throws ErrnoException {
        call(DESTROY_SRQ, "ibv_destroy_srq", srq);
    }

    /** An {@link IbvQp} in state RESET; {@code initAttr} ({@link IbvQpInitAttr}) gets the granted caps back. */
    public static MemorySegment ibv_create_qp(MemorySegment pd, MemorySegment initAttr) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment qp = (MemorySegment) need(CREATE_QP).invokeExact(st, pd, initAttr);
            return pointer(qp, st, IbvQp.LAYOUT.byteSize(), "ibv_create_qp", null, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void ibv_destroy_qp(MemorySegment qp) throws ErrnoException {
        call(DESTROY_QP, "ibv_destroy_qp", qp);
    }

    /** Applies the members of {@code attr} ({@link IbvQpAttr}) named by {@code IBV_QP_*} bits in {@code mask}. */
    public static void ibv_modify_qp(MemorySegment qp, MemorySegment attr, int mask) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(MODIFY_QP).invokeExact(st, qp, attr, mask), st, "ibv_modify_qp",
                    "QP " + IbvQp.qp_num(IbvQp.of(qp)) + " to " + qpStateName(IbvQpAttr.qp_state(attr))
                            + " (mask 0x" + Integer.toHexString(mask) + ")");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A completion status in words ("transport retry counter exceeded"). */
    public static String ibv_wc_status_str(int status) {
        try {
            MemorySegment s = (MemorySegment) need(WC_STATUS_STR).invokeExact(status);
            return s.reinterpret(128).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** "IBV_WC_RETRY_EXC_ERR"; "IBV_WC status N" for a value verbs.h does not name. */
    public static String wcStatusName(int status) {
        return status >= 0 && status < WC_STATUS_NAMES.length ? "IBV_WC_" + WC_STATUS_NAMES[status]
                : "IBV_WC status " + status;
    }

    /**
     * A completion status for a log line: "IBV_WC_RETRY_EXC_ERR (transport retry counter exceeded)", the words
     * libibverbs' {@link #ibv_wc_status_str} gives, left out where it cannot be called.
     */
    public static String describeWcStatus(int status) {
        try {
            return wcStatusName(status) + " (" + ibv_wc_status_str(status) + ")";
        } catch (RuntimeException noLibrary) {
            return wcStatusName(status);
        }
    }

    public static String qpStateName(int state) {
        return switch (state) {
            case IBV_QPS_RESET -> "RESET";
            case IBV_QPS_INIT -> "INIT";
            case IBV_QPS_RTR -> "RTR";
            case IBV_QPS_RTS -> "RTS";
            case IBV_QPS_SQD -> "SQD";
            case IBV_QPS_SQE -> "SQE";
            case IBV_QPS_ERR -> "ERR";
            default -> "state " + state;
        };
    }

    public static String portStateName(int state) {
        return switch (state) {
            case IBV_PORT_DOWN -> "DOWN";
            case IBV_PORT_INIT -> "INIT";
            case IBV_PORT_ARMED -> "ARMED";
            case IBV_PORT_ACTIVE -> "ACTIVE";
            default -> "state " + state;
        };
    }

    /** The byte count of an {@code IBV_MTU_*} value (IBV_MTU_4096 → 4096). */
    public static int mtuBytes(int mtu) {
        return mtu >= IBV_MTU_256 && mtu <= IBV_MTU_4096 ? 128 << mtu : 0;
    }

    private static MemorySegment create(MethodHandle handle, String call, MemorySegment parent, long size, Object subject)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment p = (MemorySegment) need(handle).invokeExact(st, parent);
            return pointer(p, st, size, call, subject, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void call(MethodHandle handle, String call, MemorySegment object) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(handle).invokeExact(st, object), st, call, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
