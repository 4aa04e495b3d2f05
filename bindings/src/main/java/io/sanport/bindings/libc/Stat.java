package io.sanport.bindings.libc;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct stat} of glibc on x86_64 ({@code <bits/struct_stat.h>}). */
public final class Stat {
    private Stat() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("st_dev"),
            JAVA_LONG.withName("st_ino"),
            JAVA_LONG.withName("st_nlink"),
            JAVA_INT.withName("st_mode"),
            JAVA_INT.withName("st_uid"),
            JAVA_INT.withName("st_gid"),
            JAVA_INT.withName("__pad0"),
            JAVA_LONG.withName("st_rdev"),
            JAVA_LONG.withName("st_size"),
            JAVA_LONG.withName("st_blksize"),
            JAVA_LONG.withName("st_blocks"),
            MemoryLayout.sequenceLayout(6, JAVA_LONG).withName("st_times"), // st_atim, st_mtim, st_ctim
            MemoryLayout.sequenceLayout(3, JAVA_LONG).withName("__glibc_reserved")
    ).withName("stat");

    private static final long ST_MODE = Native.requireOffset(LAYOUT, "st_mode");
    private static final long ST_RDEV = Native.requireOffset(LAYOUT, "st_rdev");
    private static final long ST_SIZE = Native.requireOffset(LAYOUT, "st_size");
    private static final long ST_BLKSIZE = Native.requireOffset(LAYOUT, "st_blksize");

    public static int st_mode(MemorySegment s) { return s.get(JAVA_INT, ST_MODE); }
    public static long st_rdev(MemorySegment s) { return s.get(JAVA_LONG, ST_RDEV); }
    public static long st_size(MemorySegment s) { return s.get(JAVA_LONG, ST_SIZE); }
    public static long st_blksize(MemorySegment s) { return s.get(JAVA_LONG, ST_BLKSIZE); }

    /** glibc's gnu_dev_major / gnu_dev_minor, inline in {@code <sys/sysmacros.h>}. */
    public static int major(long dev) { return (int) (((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL)); }
    public static int minor(long dev) { return (int) ((dev & 0xff) | ((dev >>> 12) & ~0xffL)); }
}
