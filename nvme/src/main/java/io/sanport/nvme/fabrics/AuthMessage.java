package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;

/** The header every authentication message starts with: AUTH-TYPE, AUTH-ID, and T_ID at byte 4. */
public final class AuthMessage {
    public static final long OFFSET_AUTH_TYPE = 0;
    public static final long OFFSET_AUTH_ID = 1;
    public static final long OFFSET_TID = 4;
    /** The shortest message (a failure) is 8 bytes. */
    public static final long MIN_SIZE = 8;

    private AuthMessage() {}

    public static int authType(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_AUTH_TYPE)); }
    public static int authId(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_AUTH_ID)); }
    public static int tid(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_TID)); }

    /** Writes the header: type, id and transaction identifier. */
    public static void header(MemorySegment s, int type, int id, int tid) {
        s.set(U8, OFFSET_AUTH_TYPE, (byte) type);
        s.set(U8, OFFSET_AUTH_ID, (byte) id);
        s.set(U16, OFFSET_TID, (short) tid);
    }
}
