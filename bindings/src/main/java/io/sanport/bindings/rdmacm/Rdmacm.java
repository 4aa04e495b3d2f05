package io.sanport.bindings.rdmacm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.Native;
import io.sanport.bindings.libc.SockaddrIn;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * librdmacm ({@code <rdma/rdma_cma.h>}, rdma-core 44, Debian's librdmacm1) as listed in
 * native-headers/librdmacm.bind: connection setup over IP addresses, as NVMe/RDMA hosts and targets use it
 * (RDMA_PS_TCP, RC QPs). Every call returns -1 and sets errno on failure, which becomes an
 * {@link ErrnoException} naming the call. Asynchronous results (address and route resolution, connection)
 * arrive as events on the id's {@link RdmaEventChannel}: see {@link #rdma_get_cm_event}.
 */
public final class Rdmacm {
    private Rdmacm() {}

    public static final String SONAME = "librdmacm.so.1";
    private static final Optional<SymbolLookup> LIB = Native.library(SONAME);

    /** Why librdmacm cannot be used here, or null when it can. */
    public static String unavailableReason() {
        return LIB.isPresent() ? null : SONAME + " is not installed: install Debian's librdmacm1 package";
    }

    // enum rdma_port_space
    public static final int RDMA_PS_IPOIB = 0x0002;
    public static final int RDMA_PS_TCP = 0x0106;
    public static final int RDMA_PS_UDP = 0x0111;
    public static final int RDMA_PS_IB = 0x013F;
    // enum rdma_cm_event_type
    public static final int RDMA_CM_EVENT_ADDR_RESOLVED = 0;
    public static final int RDMA_CM_EVENT_ADDR_ERROR = 1;
    public static final int RDMA_CM_EVENT_ROUTE_RESOLVED = 2;
    public static final int RDMA_CM_EVENT_ROUTE_ERROR = 3;
    public static final int RDMA_CM_EVENT_CONNECT_REQUEST = 4;
    public static final int RDMA_CM_EVENT_CONNECT_RESPONSE = 5;
    public static final int RDMA_CM_EVENT_CONNECT_ERROR = 6;
    public static final int RDMA_CM_EVENT_UNREACHABLE = 7;
    public static final int RDMA_CM_EVENT_REJECTED = 8;
    public static final int RDMA_CM_EVENT_ESTABLISHED = 9;
    public static final int RDMA_CM_EVENT_DISCONNECTED = 10;
    public static final int RDMA_CM_EVENT_DEVICE_REMOVAL = 11;
    public static final int RDMA_CM_EVENT_MULTICAST_JOIN = 12;
    public static final int RDMA_CM_EVENT_MULTICAST_ERROR = 13;
    public static final int RDMA_CM_EVENT_ADDR_CHANGE = 14;
    public static final int RDMA_CM_EVENT_TIMEWAIT_EXIT = 15;

    private static final Linker.Option ERRNO = Native.CAPTURE_ERRNO;
    private static final FunctionDescriptor INT_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    private static final FunctionDescriptor INT_PTR_INT = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT);
    private static final FunctionDescriptor INT_PTR_PTR = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);

    private static final MethodHandle CREATE_EVENT_CHANNEL = Native.downcallOrNull(LIB, "rdma_create_event_channel",
            FunctionDescriptor.of(ADDRESS), ERRNO);
    private static final MethodHandle DESTROY_EVENT_CHANNEL = Native.downcallOrNull(LIB, "rdma_destroy_event_channel",
            FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle CREATE_ID = Native.downcallOrNull(LIB, "rdma_create_id",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle DESTROY_ID = Native.downcallOrNull(LIB, "rdma_destroy_id", INT_PTR, ERRNO);
    private static final MethodHandle BIND_ADDR = Native.downcallOrNull(LIB, "rdma_bind_addr", INT_PTR_PTR, ERRNO);
    private static final MethodHandle RESOLVE_ADDR = Native.downcallOrNull(LIB, "rdma_resolve_addr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle RESOLVE_ROUTE = Native.downcallOrNull(LIB, "rdma_resolve_route", INT_PTR_INT, ERRNO);
    private static final MethodHandle LISTEN = Native.downcallOrNull(LIB, "rdma_listen", INT_PTR_INT, ERRNO);
    private static final MethodHandle CONNECT = Native.downcallOrNull(LIB, "rdma_connect", INT_PTR_PTR, ERRNO);
    private static final MethodHandle ACCEPT = Native.downcallOrNull(LIB, "rdma_accept", INT_PTR_PTR, ERRNO);
    private static final MethodHandle REJECT = Native.downcallOrNull(LIB, "rdma_reject",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_BYTE), ERRNO);
    private static final MethodHandle DISCONNECT = Native.downcallOrNull(LIB, "rdma_disconnect", INT_PTR, ERRNO);
    private static final MethodHandle GET_CM_EVENT = Native.downcallOrNull(LIB, "rdma_get_cm_event", INT_PTR_PTR, ERRNO);
    private static final MethodHandle ACK_CM_EVENT = Native.downcallOrNull(LIB, "rdma_ack_cm_event", INT_PTR, ERRNO);
    private static final MethodHandle CREATE_QP = Native.downcallOrNull(LIB, "rdma_create_qp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle DESTROY_QP = Native.downcallOrNull(LIB, "rdma_destroy_qp",
            FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle EVENT_STR = Native.downcallOrNull(LIB, "rdma_event_str",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private static MethodHandle need(MethodHandle handle) {
        if (handle == null) {
            throw new UnsupportedOperationException(unavailableReason() != null ? unavailableReason()
                    : "this librdmacm lacks a function sanport needs: install librdmacm1 from rdma-core >= 44");
        }
        return handle;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private static void check(int rc, MemorySegment state, String call, Object subject, String hint)
            throws ErrnoException {
        if (rc != 0) {
            int errno = rc == -1 ? Native.errno(state) : Math.abs(rc);
            throw new ErrnoException(call, subject, errno == 0 ? Errno.EIO : errno, hint);
        }
    }

    /** A new {@link RdmaEventChannel}; destroy it after every id on it. */
    public static MemorySegment rdma_create_event_channel() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment ch = (MemorySegment) need(CREATE_EVENT_CHANNEL).invokeExact(st);
            if (ch.equals(MemorySegment.NULL)) {
                throw new ErrnoException("rdma_create_event_channel", null, Native.errno(st),
                        "is rdma_ucm loaded (modprobe rdma_ucm) and /dev/infiniband/rdma_cm there?");
            }
            return ch.reinterpret(RdmaEventChannel.LAYOUT.byteSize());
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void rdma_destroy_event_channel(MemorySegment channel) {
        try {
            need(DESTROY_EVENT_CHANNEL).invokeExact(channel);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A new {@link RdmaCmId} reporting to {@code channel}; {@code ps} is an {@code RDMA_PS_*} port space. */
    public static MemorySegment rdma_create_id(MemorySegment channel, MemorySegment context, int ps)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment id = arena.allocate(ADDRESS);
            check((int) need(CREATE_ID).invokeExact(st, channel, id, context, ps), st, "rdma_create_id", null, null);
            return RdmaCmId.of(id.get(ADDRESS, 0));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Blocks until every event reported for the id has been acknowledged; destroy its QP first. */
    public static void rdma_destroy_id(MemorySegment id) throws ErrnoException {
        invoke(DESTROY_ID, "rdma_destroy_id", id, null);
    }

    /** Binds to a local address ({@link SockaddrIn}); port 0 picks one. */
    public static void rdma_bind_addr(MemorySegment id, MemorySegment addr) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(BIND_ADDR).invokeExact(st, id, addr), st, "rdma_bind_addr", sockaddr(addr),
                    "is the address on an interface with an RDMA device (rdma link)?");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Starts resolving {@code dst} (and binding to {@code src}, or NULL); ADDR_RESOLVED or ADDR_ERROR follows. */
    public static void rdma_resolve_addr(MemorySegment id, MemorySegment src, MemorySegment dst, int timeoutMs)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(RESOLVE_ADDR).invokeExact(st, id, src, dst, timeoutMs), st, "rdma_resolve_addr",
                    sockaddr(dst), null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Starts resolving the route to the resolved address; ROUTE_RESOLVED or ROUTE_ERROR follows. */
    public static void rdma_resolve_route(MemorySegment id, int timeoutMs) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(RESOLVE_ROUTE).invokeExact(st, id, timeoutMs), st, "rdma_resolve_route", null, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Listens on the bound address; each connect arrives as a CONNECT_REQUEST with a new id. */
    public static void rdma_listen(MemorySegment id, int backlog) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(LISTEN).invokeExact(st, id, backlog), st, "rdma_listen", null, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Sends the connect request with {@code param} ({@link RdmaConnParam}, private data included); ESTABLISHED,
     * REJECTED, UNREACHABLE or CONNECT_ERROR follows. With a QP on the id, the CM moves it to RTR and RTS.
     */
    public static void rdma_connect(MemorySegment id, MemorySegment param) throws ErrnoException {
        invoke2(CONNECT, "rdma_connect", id, param);
    }

    /** Accepts a CONNECT_REQUEST's id; ESTABLISHED follows on it. Post receives before this. */
    public static void rdma_accept(MemorySegment id, MemorySegment param) throws ErrnoException {
        invoke2(ACCEPT, "rdma_accept", id, param);
    }

    /** Refuses a CONNECT_REQUEST's id with {@code privateData} (may be NULL); the peer sees REJECTED. */
    public static void rdma_reject(MemorySegment id, MemorySegment privateData) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(REJECT).invokeExact(st, id, privateData, (byte) privateData.byteSize()), st,
                    "rdma_reject", null, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Disconnects; the QP goes to ERR (outstanding WRs flush) and both sides get DISCONNECTED. */
    public static void rdma_disconnect(MemorySegment id) throws ErrnoException {
        invoke(DISCONNECT, "rdma_disconnect", id, null);
    }

    /**
     * The next event on the channel ({@link RdmaCmEvent}), blocking unless its fd is non-blocking (then EAGAIN).
     * Acknowledge every event with {@link #rdma_ack_cm_event}.
     */
    public static MemorySegment rdma_get_cm_event(MemorySegment channel) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            MemorySegment event = arena.allocate(ADDRESS);
            check((int) need(GET_CM_EVENT).invokeExact(st, channel, event), st, "rdma_get_cm_event", null, null);
            return RdmaCmEvent.of(event.get(ADDRESS, 0));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Gives the event back; its private data and, for a destroyed id's last event, the id go with it. */
    public static void rdma_ack_cm_event(MemorySegment event) throws ErrnoException {
        invoke(ACK_CM_EVENT, "rdma_ack_cm_event", event, null);
    }

    /**
     * Creates a QP on the id's device context with {@code initAttr} ({@link io.sanport.bindings.verbs.IbvQpInitAttr})
     * in {@code pd} (NULL: the CM's default PD); the CM drives its state through connect and accept.
     */
    public static void rdma_create_qp(MemorySegment id, MemorySegment pd, MemorySegment initAttr)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(CREATE_QP).invokeExact(st, id, pd, initAttr), st, "rdma_create_qp", null, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void rdma_destroy_qp(MemorySegment id) {
        try {
            need(DESTROY_QP).invokeExact(id);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** enum rdma_cm_event_type by value (rdma_cma.h). */
    private static final String[] EVENT_NAMES = {"ADDR_RESOLVED", "ADDR_ERROR", "ROUTE_RESOLVED", "ROUTE_ERROR",
            "CONNECT_REQUEST", "CONNECT_RESPONSE", "CONNECT_ERROR", "UNREACHABLE", "REJECTED", "ESTABLISHED",
            "DISCONNECTED", "DEVICE_REMOVAL", "MULTICAST_JOIN", "MULTICAST_ERROR", "ADDR_CHANGE", "TIMEWAIT_EXIT"};

    /** "RDMA_CM_EVENT_DISCONNECTED" from the header's table (no librdmacm call, as rdma_event_str makes). */
    public static String eventName(int event) {
        return event >= 0 && event < EVENT_NAMES.length ? "RDMA_CM_EVENT_" + EVENT_NAMES[event]
                : "RDMA_CM_EVENT " + event;
    }

    /** "RDMA_CM_EVENT_ESTABLISHED". */
    public static String rdma_event_str(int event) {
        try {
            MemorySegment s = (MemorySegment) need(EVENT_STR).invokeExact(event);
            return s.reinterpret(64).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static String sockaddr(MemorySegment addr) {
        if (addr.equals(MemorySegment.NULL) || addr.byteSize() < SockaddrIn.LAYOUT.byteSize()) {
            return null;
        }
        MemorySegment sin = addr.reinterpret(SockaddrIn.LAYOUT.byteSize());
        byte[] a = SockaddrIn.sin_addr(sin);
        return (a[0] & 255) + "." + (a[1] & 255) + "." + (a[2] & 255) + "." + (a[3] & 255) + ":"
                + SockaddrIn.sin_port(sin);
    }

    private static void invoke(MethodHandle handle, String call, MemorySegment object, Object subject)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(handle).invokeExact(st, object), st, call, subject, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void invoke2(MethodHandle handle, String call, MemorySegment id, MemorySegment param)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(Native.CAPTURE_LAYOUT);
            check((int) need(handle).invokeExact(st, id, param), st, call, null, null);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
