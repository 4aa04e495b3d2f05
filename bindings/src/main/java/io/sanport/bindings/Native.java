package io.sanport.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * The shared pieces of every binding: the linker, library lookups, errno capture and layout arithmetic.
 * Mirrors what jextract generates into each header class, kept in one place.
 */
public final class Native {
    private Native() {}

    public static final Linker LINKER = Linker.nativeLinker();
    public static final SymbolLookup LIBC = LINKER.defaultLookup();

    /** {@code captureCallState("errno")}: the errno of the call lands in a segment the caller passes first. */
    public static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    public static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    public static int errno(MemorySegment captureState) {
        return (int) ERRNO.get(captureState, 0L);
    }

    /** Loads a shared library once for the life of the JVM; empty when it is not installed. */
    public static Optional<SymbolLookup> library(String soname) {
        try {
            return Optional.of(SymbolLookup.libraryLookup(soname, Arena.global()));
        } catch (IllegalArgumentException notFound) {
            return Optional.empty();
        }
    }

    public static MethodHandle downcall(SymbolLookup lookup, String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment address = lookup.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("symbol not found: " + name));
        return LINKER.downcallHandle(address, fd, options);
    }

    /** A downcall handle that is bound lazily: a missing library fails on first use, with its name. */
    public static MethodHandle downcallOrNull(Optional<SymbolLookup> lookup, String name, FunctionDescriptor fd,
                                              Linker.Option... options) {
        return lookup.flatMap(l -> l.find(name)).map(a -> LINKER.downcallHandle(a, fd, options)).orElse(null);
    }

    /**
     * Byte offset of a named member anywhere in {@code layout}, looking through anonymous unions and structs
     * the way C does ({@code offsetof(struct io_uring_sqe, buf_index)}); -1 when there is none. A dotted name
     * descends into named members as {@code offsetof} does: {@code "wr.rdma.rkey"} in {@code ibv_send_wr}.
     */
    public static long offsetOf(GroupLayout layout, String name) {
        return find(layout, name, 0, true);
    }

    /** Byte size of a named member, looking through anonymous members; -1 when there is none. */
    public static long sizeOf(GroupLayout layout, String name) {
        return find(layout, name, 0, false);
    }

    private static long find(GroupLayout group, String name, long base, boolean wantOffset) {
        int dot = name.indexOf('.');
        if (dot > 0) {
            String outer = name.substring(0, dot);
            long at = find(group, outer, base, true);
            return at >= 0 && member(group, outer) instanceof GroupLayout inner
                    ? find(inner, name.substring(dot + 1), at, wantOffset) : -1;
        }
        long offset = 0;
        for (MemoryLayout member : group.memberLayouts()) {
            long at = group instanceof StructLayout ? base + offset : base;
            if (member.name().filter(name::equals).isPresent()) {
                return wantOffset ? at : member.byteSize();
            }
            if (member instanceof GroupLayout inner && member.name().isEmpty()) {
                long found = find(inner, name, at, wantOffset);
                if (found >= 0) {
                    return found;
                }
            }
            offset += member.byteSize();
        }
        return -1;
    }

    /** The layout of a named member, looking through anonymous members; null when there is none. */
    private static MemoryLayout member(GroupLayout group, String name) {
        for (MemoryLayout m : group.memberLayouts()) {
            if (m.name().filter(name::equals).isPresent()) {
                return m;
            }
            if (m instanceof GroupLayout inner && m.name().isEmpty()) {
                MemoryLayout found = member(inner, name);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /** Offset of a member that must exist: for the OFFSET constants of the struct classes. */
    public static long requireOffset(GroupLayout layout, String name) {
        long offset = offsetOf(layout, name);
        if (offset < 0) {
            throw new IllegalArgumentException(layout.name().orElse("struct") + " has no member " + name);
        }
        return offset;
    }

    public static final ValueLayout.OfLong C_SIZE_T = ValueLayout.JAVA_LONG;
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
}
