package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sizes and offsets of Linux's struct nvmf_auth_* (include/linux/nvme.h); values in wire order. */
class AuthMessagesTest {
    @Test
    void sendAndReceiveCommands() {
        assertEquals(64, AuthSendCommand.SIZE);
        assertEquals(41, AuthSendCommand.OFFSET_SPSP0);
        assertEquals(42, AuthSendCommand.OFFSET_SPSP1);
        assertEquals(43, AuthSendCommand.OFFSET_SECP);
        assertEquals(44, AuthSendCommand.OFFSET_TL);
        assertEquals(44, AuthReceiveCommand.OFFSET_AL);
        MemorySegment s = misaligned(64);
        AuthSendCommand.dhchap(s, FabricsCommand.FCTYPE_AUTH_SEND, 72);
        assertBytes("7f", s, 0);
        assertBytes("05", s, 4);
        assertBytes("000101e9" + "48000000", s, 40);
        assertEquals(72, AuthReceiveCommand.al(s));
        assertEquals(Dhchap.PROTOCOL_IDENTIFIER, AuthReceiveCommand.secp(s));
    }

    /**
     * The AUTH-IDs as Linux's host and nvmet put them on the wire (include/linux/nvme.h): sanport once had Failure1
     * 03h, Success1 04h, Success2 05h, and neither Linux peer could complete a transaction with it.
     */
    @Test
    void messageIdsAreLinuxs() {
        MemorySegment s = misaligned(16);
        AuthMessage.header(s, Dhchap.TYPE_DHCHAP, Dhchap.MSG_SUCCESS1, 0x1234);
        assertBytes("01" + "03" + "0000" + "3412", s, 0);
        AuthMessage.header(s, Dhchap.TYPE_DHCHAP, Dhchap.MSG_SUCCESS2, 0x1234);
        assertBytes("01" + "04", s, 0);
        AuthMessage.header(s, Dhchap.TYPE_DHCHAP, Dhchap.MSG_CHALLENGE, 1);
        assertBytes("01" + "01", s, 0);
        AuthMessage.header(s, Dhchap.TYPE_DHCHAP, Dhchap.MSG_REPLY, 1);
        assertBytes("01" + "02", s, 0);
        AuthMessage.header(s, Dhchap.TYPE_COMMON, Dhchap.MSG_NEGOTIATE, 1);
        assertBytes("00" + "00", s, 0);
        assertEquals(0xF0, Dhchap.MSG_FAILURE2);
        assertEquals(0xF1, Dhchap.MSG_FAILURE1);
    }

    @Test
    void negotiate() {
        assertEquals(72, AuthNegotiateData.SIZE);
        assertEquals(6, AuthNegotiateData.OFFSET_SC_C);
        assertEquals(7, AuthNegotiateData.OFFSET_NAPD);
        assertEquals(8, AuthNegotiateData.OFFSET_AUTHID);
        assertEquals(10, AuthNegotiateData.OFFSET_HALEN);
        assertEquals(11, AuthNegotiateData.OFFSET_DHLEN);
        assertEquals(12, AuthNegotiateData.OFFSET_IDLIST);
        MemorySegment s = misaligned(AuthNegotiateData.SIZE);
        AuthMessage.header(s, Dhchap.TYPE_COMMON, Dhchap.MSG_NEGOTIATE, 0x1234);
        AuthNegotiateData.napd(s, 1);
        AuthNegotiateData.authid(s, Dhchap.AUTH_ID);
        AuthNegotiateData.ids(s, new int[] {1, 2, 3}, new int[] {0, 1});
        assertBytes("0000" + "0000" + "3412" + "00" + "01" + "01" + "00" + "03" + "02" + "010203", s, 0);
        assertBytes("0001", s, 12 + 30);
        assertEquals(3, AuthNegotiateData.hashId(s, 2));
        assertEquals(1, AuthNegotiateData.dhgroupId(s, 1));
        assertEquals(0x1234, AuthMessage.tid(s));
        assertThrows(IllegalArgumentException.class, () -> AuthNegotiateData.ids(s, new int[31], new int[0]));
    }

    @Test
    void challenge() {
        assertEquals(16, DhchapChallengeData.SIZE);
        assertEquals(6, DhchapChallengeData.OFFSET_HL);
        assertEquals(8, DhchapChallengeData.OFFSET_HASHID);
        assertEquals(9, DhchapChallengeData.OFFSET_DHGID);
        assertEquals(10, DhchapChallengeData.OFFSET_DHVLEN);
        assertEquals(12, DhchapChallengeData.OFFSET_SEQNUM);
        MemorySegment s = misaligned(16);
        AuthMessage.header(s, Dhchap.TYPE_DHCHAP, Dhchap.MSG_CHALLENGE, 7);
        DhchapChallengeData.hl(s, 48);
        DhchapChallengeData.hashId(s, Dhchap.HASH_SHA384);
        DhchapChallengeData.dhgroupId(s, Dhchap.DHGROUP_FFDHE2048);
        DhchapChallengeData.dhvlen(s, 256);
        DhchapChallengeData.seqnum(s, 0x01020304);
        assertBytes("0101" + "0000" + "0700" + "30" + "00" + "02" + "01" + "0001" + "04030201", s, 0);
        assertEquals(16 + 48 + 256, DhchapChallengeData.size(48, 256));
    }

    @Test
    void reply() {
        assertEquals(16, DhchapReplyData.SIZE);
        assertEquals(8, DhchapReplyData.OFFSET_CVALID);
        assertEquals(10, DhchapReplyData.OFFSET_DHVLEN);
        assertEquals(12, DhchapReplyData.OFFSET_SEQNUM);
        MemorySegment s = misaligned(16);
        DhchapReplyData.hl(s, 32);
        DhchapReplyData.cvalid(s, true);
        DhchapReplyData.dhvlen(s, 0x0180);
        DhchapReplyData.seqnum(s, -1);
        assertBytes("20" + "00" + "01" + "00" + "8001" + "ffffffff", s, 6);
        assertTrue(DhchapReplyData.cvalid(s));
        assertEquals(-1, DhchapReplyData.seqnum(s));
        assertEquals(16 + 32, DhchapReplyData.offsetC2(32));
        assertEquals(16 + 64, DhchapReplyData.offsetDhv(32));
        assertEquals(16 + 64 + 384, DhchapReplyData.size(32, 384));
    }

    @Test
    void successAndFailure() {
        assertEquals(16, DhchapSuccess1Data.SIZE);
        assertEquals(6, DhchapSuccess1Data.OFFSET_HL);
        assertEquals(8, DhchapSuccess1Data.OFFSET_RVALID);
        assertEquals(16, DhchapSuccess2Data.SIZE);
        assertEquals(8, DhchapFailureData.SIZE);
        assertEquals(6, DhchapFailureData.OFFSET_RESCODE);
        assertEquals(7, DhchapFailureData.OFFSET_RESCODE_EXP);
        MemorySegment s = misaligned(16);
        DhchapSuccess1Data.hl(s, 64);
        assertFalse(DhchapSuccess1Data.rvalid(s));
        DhchapSuccess1Data.rvalid(s, true);
        assertBytes("40" + "00" + "01", s, 6);
        MemorySegment f = misaligned(8);
        DhchapFailureData.write(f, Dhchap.MSG_FAILURE1, 9, Dhchap.FAILED);
        assertBytes("00" + "f1" + "0000" + "0900" + "01" + "01", f, 0);
        DhchapFailureData.write(f, Dhchap.MSG_FAILURE2, 9, Dhchap.INCORRECT_PAYLOAD);
        assertBytes("01" + "f0" + "0000" + "0900" + "01" + "06", f, 0);
        assertEquals(Dhchap.INCORRECT_PAYLOAD, DhchapFailureData.rescodeExp(f));
        assertEquals("incorrect payload", Dhchap.explain(DhchapFailureData.rescodeExp(f)));
    }
}
