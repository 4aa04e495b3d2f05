package io.sanport.bindings.verbs;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.UnionLayout;
import java.util.HexFormat;

/**
 * {@code union ibv_gid} ({@code <infiniband/verbs.h>}): a port's 16-byte GID. On RoCE v2 (SoftRoCE) the GID is
 * the interface's IP address, IPv4 mapped into IPv6 ({@code ::ffff:169.254.77.1} at index 1). Checked through
 * {@code ibv_global_route.dgid} (the layout probe only sizes structs).
 */
public final class IbvGid {
    private IbvGid() {}

    public static final UnionLayout LAYOUT = MemoryLayout.unionLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("raw"),
            MemoryLayout.structLayout(
                    JAVA_LONG.withName("subnet_prefix"),
                    JAVA_LONG.withName("interface_id")).withName("global")
    ).withName("ibv_gid");

    public static byte[] raw(MemorySegment s) {
        return s.asSlice(0, 16).toArray(JAVA_BYTE);
    }

    /** The IPv4 address of an IPv4-mapped GID ({@code ::ffff:a.b.c.d}), or null for any other GID. */
    public static byte[] ipv4(MemorySegment s) {
        byte[] raw = raw(s);
        for (int i = 0; i < 10; i++) {
            if (raw[i] != 0) return null;
        }
        return raw[10] == (byte) 0xff && raw[11] == (byte) 0xff ? java.util.Arrays.copyOfRange(raw, 12, 16) : null;
    }

    /** "fe80:0000:...:0001", as /sys/class/infiniband/DEV/ports/N/gids/I prints it. */
    public static String format(MemorySegment s) {
        String hex = HexFormat.of().formatHex(raw(s));
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 32; i += 4) {
            if (i > 0) b.append(':');
            b.append(hex, i, i + 4);
        }
        return b.toString();
    }
}
