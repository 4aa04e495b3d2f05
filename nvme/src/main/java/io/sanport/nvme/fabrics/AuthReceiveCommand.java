package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;

import static io.sanport.nvme.Wire.U32;

/**
 * Fabrics Authentication Receive (FCTYPE 0x06), NVMe 2.0 §6.2 (64 B); Linux {@code struct
 * nvmf_auth_receive_command}: the layout of {@link AuthSendCommand}, with AL (allocation length, bytes the host
 * can take) where Send has TL.
 */
public final class AuthReceiveCommand {
    public static final long SIZE = AuthSendCommand.SIZE;
    public static final long OFFSET_SPSP0 = AuthSendCommand.OFFSET_SPSP0;
    public static final long OFFSET_SPSP1 = AuthSendCommand.OFFSET_SPSP1;
    public static final long OFFSET_SECP = AuthSendCommand.OFFSET_SECP;
    public static final long OFFSET_AL = AuthSendCommand.OFFSET_TL;

    private AuthReceiveCommand() {}

    public static int spsp0(MemorySegment s) { return AuthSendCommand.spsp0(s); }
    public static int spsp1(MemorySegment s) { return AuthSendCommand.spsp1(s); }
    public static int secp(MemorySegment s) { return AuthSendCommand.secp(s); }

    /** Allocation length (unsigned). */
    public static int al(MemorySegment s) { return s.get(U32, OFFSET_AL); }
    public static void al(MemorySegment s, int v) { s.set(U32, OFFSET_AL, v); }
}
