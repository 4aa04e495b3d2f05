package io.sanport.nvme.fabrics;

import io.sanport.nvme.SglDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * Fabrics Authentication Send (FCTYPE 0x05), NVMe-oF 1.1a / NVMe 2.0 §6.3 (64 B); Linux {@code struct
 * nvmf_auth_send_command}. TL bytes of an authentication message go host to controller.
 */
public final class AuthSendCommand {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("opcode"),
            MemoryLayout.paddingLayout(1),
            U16.withName("command_id"),
            U8.withName("fctype"),
            MemoryLayout.paddingLayout(19),
            SglDescriptor.LAYOUT.withName("dptr"),
            MemoryLayout.paddingLayout(1),
            U8.withName("spsp0"),
            U8.withName("spsp1"),
            U8.withName("secp"),
            U32.withName("tl"),
            MemoryLayout.paddingLayout(16)
    ).withName("nvmf_auth_send_command");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_FCTYPE = LAYOUT.byteOffset(groupElement("fctype"));
    public static final long OFFSET_SPSP0 = LAYOUT.byteOffset(groupElement("spsp0"));
    public static final long OFFSET_SPSP1 = LAYOUT.byteOffset(groupElement("spsp1"));
    public static final long OFFSET_SECP = LAYOUT.byteOffset(groupElement("secp"));
    public static final long OFFSET_TL = LAYOUT.byteOffset(groupElement("tl"));

    private AuthSendCommand() {}

    public static int spsp0(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_SPSP0)); }
    public static void spsp0(MemorySegment s, int v) { s.set(U8, OFFSET_SPSP0, (byte) v); }

    public static int spsp1(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_SPSP1)); }
    public static void spsp1(MemorySegment s, int v) { s.set(U8, OFFSET_SPSP1, (byte) v); }

    public static int secp(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_SECP)); }
    public static void secp(MemorySegment s, int v) { s.set(U8, OFFSET_SECP, (byte) v); }

    /** Transfer length: bytes of the message the host sends (unsigned; compare with Integer.compareUnsigned). */
    public static int tl(MemorySegment s) { return s.get(U32, OFFSET_TL); }
    public static void tl(MemorySegment s, int v) { s.set(U32, OFFSET_TL, v); }

    /** Fills the fields that name DH-HMAC-CHAP (SECP E9h, SPSP 0101h) for {@code fctype} Send or Receive. */
    public static void dhchap(MemorySegment s, int fctype, int length) {
        FabricsCommand.opcode(s, FabricsCommand.OPCODE);
        FabricsCommand.fctype(s, fctype);
        secp(s, Dhchap.PROTOCOL_IDENTIFIER);
        spsp0(s, 0x01);
        spsp1(s, 0x01);
        tl(s, length);
    }
}
