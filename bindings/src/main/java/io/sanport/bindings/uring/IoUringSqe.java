package io.sanport.bindings.uring;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Native;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct io_uring_sqe} ({@code <liburing/io_uring.h>}): the 64-byte submission entry, written by Java
 * straight into the mapped ring. The anonymous unions are kept, so every C member name has its offset.
 */
public final class IoUringSqe {
    private IoUringSqe() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("opcode"),
            JAVA_BYTE.withName("flags"),
            JAVA_SHORT.withName("ioprio"),
            JAVA_INT.withName("fd"),
            MemoryLayout.unionLayout(
                    JAVA_LONG.withName("off"),
                    JAVA_LONG.withName("addr2"),
                    MemoryLayout.structLayout(JAVA_INT.withName("cmd_op"), JAVA_INT.withName("__pad1"))),
            MemoryLayout.unionLayout(
                    JAVA_LONG.withName("addr"),
                    JAVA_LONG.withName("splice_off_in")),
            JAVA_INT.withName("len"),
            MemoryLayout.unionLayout(
                    JAVA_INT.withName("rw_flags"),
                    JAVA_INT.withName("fsync_flags"),
                    JAVA_SHORT.withName("poll_events"),
                    JAVA_INT.withName("poll32_events"),
                    JAVA_INT.withName("msg_flags"),
                    JAVA_INT.withName("timeout_flags"),
                    JAVA_INT.withName("accept_flags"),
                    JAVA_INT.withName("cancel_flags"),
                    JAVA_INT.withName("uring_cmd_flags")),
            JAVA_LONG.withName("user_data"),
            MemoryLayout.unionLayout(
                    JAVA_SHORT.withName("buf_index"),
                    JAVA_SHORT.withName("buf_group")),
            JAVA_SHORT.withName("personality"),
            MemoryLayout.unionLayout(
                    JAVA_INT.withName("splice_fd_in"),
                    JAVA_INT.withName("file_index"),
                    MemoryLayout.structLayout(JAVA_SHORT.withName("addr_len"), JAVA_SHORT.withName("__pad3"))),
            JAVA_LONG.withName("addr3"),
            JAVA_LONG.withName("__pad2")
    ).withName("io_uring_sqe");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OPCODE = Native.requireOffset(LAYOUT, "opcode");
    public static final long FLAGS = Native.requireOffset(LAYOUT, "flags");
    public static final long IOPRIO = Native.requireOffset(LAYOUT, "ioprio");
    public static final long FD = Native.requireOffset(LAYOUT, "fd");
    public static final long OFF = Native.requireOffset(LAYOUT, "off");
    public static final long CMD_OP = Native.requireOffset(LAYOUT, "cmd_op");
    public static final long ADDR = Native.requireOffset(LAYOUT, "addr");
    public static final long LEN = Native.requireOffset(LAYOUT, "len");
    public static final long RW_FLAGS = Native.requireOffset(LAYOUT, "rw_flags");
    public static final long USER_DATA = Native.requireOffset(LAYOUT, "user_data");
    public static final long BUF_INDEX = Native.requireOffset(LAYOUT, "buf_index");
    public static final long PERSONALITY = Native.requireOffset(LAYOUT, "personality");
    public static final long FILE_INDEX = Native.requireOffset(LAYOUT, "file_index");
    public static final long ADDR3 = Native.requireOffset(LAYOUT, "addr3");
    /** Start of the 80-byte command area of an IORING_SETUP_SQE128 entry (the C {@code cmd[0]}). */
    public static final long CMD = ADDR3;

    public static void opcode(MemorySegment s, long at, byte v) { s.set(JAVA_BYTE, at + OPCODE, v); }
    public static void flags(MemorySegment s, long at, byte v) { s.set(JAVA_BYTE, at + FLAGS, v); }
    public static void ioprio(MemorySegment s, long at, short v) { s.set(JAVA_SHORT, at + IOPRIO, v); }
    public static void fd(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + FD, v); }
    public static void off(MemorySegment s, long at, long v) { s.set(JAVA_LONG, at + OFF, v); }
    public static void addr(MemorySegment s, long at, long v) { s.set(JAVA_LONG, at + ADDR, v); }
    public static void len(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + LEN, v); }
    public static void rw_flags(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + RW_FLAGS, v); }
    public static void user_data(MemorySegment s, long at, long v) { s.set(JAVA_LONG, at + USER_DATA, v); }
    public static void buf_index(MemorySegment s, long at, short v) { s.set(JAVA_SHORT, at + BUF_INDEX, v); }
    public static void personality(MemorySegment s, long at, short v) { s.set(JAVA_SHORT, at + PERSONALITY, v); }
    public static void file_index(MemorySegment s, long at, int v) { s.set(JAVA_INT, at + FILE_INDEX, v); }
    public static void addr3(MemorySegment s, long at, long v) { s.set(JAVA_LONG, at + ADDR3, v); }
    public static byte opcode(MemorySegment s, long at) { return s.get(JAVA_BYTE, at + OPCODE); }
    public static long user_data(MemorySegment s, long at) { return s.get(JAVA_LONG, at + USER_DATA); }
}
