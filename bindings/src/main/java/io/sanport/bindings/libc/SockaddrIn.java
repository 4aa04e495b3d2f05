package io.sanport.bindings.libc;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.ByteOrder;

/**
 * {@code struct sockaddr_in} ({@code <netinet/in.h>}): family in host order, port and address in network
 * (big-endian) order, as the kernel wants them.
 */
public final class SockaddrIn {
    private SockaddrIn() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_SHORT.withName("sin_family"),
            JAVA_SHORT.withName("sin_port"),
            JAVA_INT.withName("sin_addr"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("sin_zero")
    ).withName("sockaddr_in");

    private static final long SIN_FAMILY = Native.requireOffset(LAYOUT, "sin_family");
    private static final long SIN_PORT = Native.requireOffset(LAYOUT, "sin_port");
    private static final long SIN_ADDR = Native.requireOffset(LAYOUT, "sin_addr");
    private static final java.lang.foreign.ValueLayout.OfShort NET_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    public static int sin_family(MemorySegment s) { return Short.toUnsignedInt(s.get(JAVA_SHORT, SIN_FAMILY)); }
    public static void sin_family(MemorySegment s, int v) { s.set(JAVA_SHORT, SIN_FAMILY, (short) v); }

    /** The port in host order (stored big-endian). */
    public static int sin_port(MemorySegment s) { return Short.toUnsignedInt(s.get(NET_SHORT, SIN_PORT)); }
    public static void sin_port(MemorySegment s, int v) { s.set(NET_SHORT, SIN_PORT, (short) v); }

    /** The 4 address bytes in network order, as {@link java.net.Inet4Address#getAddress()} gives them. */
    public static byte[] sin_addr(MemorySegment s) {
        byte[] a = new byte[4];
        MemorySegment.copy(s, JAVA_BYTE, SIN_ADDR, a, 0, 4);
        return a;
    }

    public static void sin_addr(MemorySegment s, byte[] v) { MemorySegment.copy(v, 0, s, JAVA_BYTE, SIN_ADDR, 4); }
}
