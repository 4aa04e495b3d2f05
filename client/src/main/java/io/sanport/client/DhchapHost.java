package io.sanport.client;

import io.sanport.nvme.Wire;
import io.sanport.nvme.auth.DhExchange;
import io.sanport.nvme.auth.DhGroup;
import io.sanport.nvme.auth.DhchapHash;
import io.sanport.nvme.auth.DhchapKey;
import io.sanport.nvme.auth.DhchapResponse;
import io.sanport.nvme.fabrics.AuthMessage;
import io.sanport.nvme.fabrics.AuthNegotiateData;
import io.sanport.nvme.fabrics.AuthSendCommand;
import io.sanport.nvme.fabrics.Dhchap;
import io.sanport.nvme.fabrics.DhchapChallengeData;
import io.sanport.nvme.fabrics.DhchapFailureData;
import io.sanport.nvme.fabrics.DhchapReplyData;
import io.sanport.nvme.fabrics.DhchapSuccess1Data;
import io.sanport.nvme.fabrics.DhchapSuccess2Data;
import io.sanport.nvme.fabrics.FabricsCommand;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The host side of DH-HMAC-CHAP on one queue, as the Linux host runs it ({@code drivers/nvme/host/auth.c}):
 * AUTH_Negotiate offering every hash and DH group, the Challenge, the Reply (with the host's own challenge when
 * it has the controller's secret), Success1 (checking the controller's response), Success2 or Failure2. A
 * failure throws {@link DhchapException}; the caller closes the association. Secrets and derived values never
 * reach a message.
 */
final class DhchapHost {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Receive buffer, as Linux's CHAP_BUF_SIZE. */
    static final int BUFFER = 4096;
    private static final int[] HASHES = {Dhchap.HASH_SHA256, Dhchap.HASH_SHA384, Dhchap.HASH_SHA512};
    private static final int[] GROUPS = {Dhchap.DHGROUP_NULL, Dhchap.DHGROUP_FFDHE2048, Dhchap.DHGROUP_FFDHE3072,
            Dhchap.DHGROUP_FFDHE4096, Dhchap.DHGROUP_FFDHE6144, Dhchap.DHGROUP_FFDHE8192};

    /** An authentication refused by either side; {@link #explanation} is the failure message's code. */
    static final class DhchapException extends IOException {
        private final int explanation;

        DhchapException(String message, int explanation) {
            super(message);
            this.explanation = explanation;
        }

        int explanation() { return explanation; }
    }

    private DhchapHost() {}

    /** Runs one transaction {@code tid} on {@code q}; returns the negotiated hash and group, for logs and tests. */
    static String authenticate(NvmeQueue q, int tid, String hostnqn, String subnqn, DhchapKey secret,
                               DhchapKey ctrlSecret, long timeoutMillis) throws IOException {
        Arena arena = Arena.ofAuto();
        MemorySegment negotiate = arena.allocate(AuthNegotiateData.SIZE, 8);
        AuthMessage.header(negotiate, Dhchap.TYPE_COMMON, Dhchap.MSG_NEGOTIATE, tid);
        AuthNegotiateData.scC(negotiate, Dhchap.SC_C_NONE);
        AuthNegotiateData.napd(negotiate, 1);
        AuthNegotiateData.authid(negotiate, Dhchap.AUTH_ID);
        AuthNegotiateData.ids(negotiate, HASHES, GROUPS);
        send(q, negotiate, timeoutMillis);

        MemorySegment in = arena.allocate(BUFFER, 8);
        receive(q, in, timeoutMillis);
        expect(in, Dhchap.MSG_CHALLENGE, tid);
        DhchapHash hash = DhchapHash.byId(DhchapChallengeData.hashId(in));
        DhGroup group = DhGroup.byId(DhchapChallengeData.dhgroupId(in));
        int hl = DhchapChallengeData.hl(in);
        int dhvlen = DhchapChallengeData.dhvlen(in);
        if (hash == null || hl != hash.length()) {
            throw refuse(q, tid, "the controller chose hash " + DhchapChallengeData.hashId(in) + " with HL " + hl,
                    Dhchap.HASH_UNUSABLE, timeoutMillis);
        }
        if (group == null || dhvlen != (group == DhGroup.NULL ? 0 : group.valueLength())
                || DhchapChallengeData.size(hl, dhvlen) > BUFFER) {
            throw refuse(q, tid, "the controller chose DH group " + DhchapChallengeData.dhgroupId(in) + " with a "
                    + dhvlen + "-byte value", Dhchap.DHGROUP_UNUSABLE, timeoutMillis);
        }
        int s1 = DhchapChallengeData.seqnum(in);
        byte[] c1 = new byte[hl];
        MemorySegment.copy(in, Wire.U8, DhchapChallengeData.OFFSET_CVAL, c1, 0, hl);
        byte[] sessionKey = null;
        byte[] hostValue = new byte[0];
        if (dhvlen > 0) {
            byte[] ctrlValue = new byte[dhvlen];
            MemorySegment.copy(in, Wire.U8, DhchapChallengeData.OFFSET_CVAL + hl, ctrlValue, 0, dhvlen);
            DhExchange dh = new DhExchange(group, RANDOM);
            try {
                sessionKey = dh.sessionKey(ctrlValue);
            } catch (IllegalArgumentException e) {
                throw refuse(q, tid, "the controller's DH value was refused", Dhchap.DHGROUP_UNUSABLE, timeoutMillis);
            }
            hostValue = dh.publicValue();
        }
        try { // the session key is wiped however the transaction ends
            byte[] key = secret.transform(hostnqn);
            byte[] r1 = DhchapResponse.host(hash, key, DhchapResponse.augment(hash, sessionKey, c1), s1, tid, hostnqn,
                    subnqn);
            Arrays.fill(key, (byte) 0);
            byte[] c2 = null;
            int s2 = 0;
            if (ctrlSecret != null) {
                c2 = new byte[hl];
                RANDOM.nextBytes(c2);
                do {
                    s2 = RANDOM.nextInt();
                } while (s2 == 0);
            }
            MemorySegment reply = arena.allocate(DhchapReplyData.size(hl, hostValue.length), 8);
            AuthMessage.header(reply, Dhchap.TYPE_DHCHAP, Dhchap.MSG_REPLY, tid);
            DhchapReplyData.hl(reply, hl);
            DhchapReplyData.cvalid(reply, c2 != null);
            DhchapReplyData.dhvlen(reply, hostValue.length);
            DhchapReplyData.seqnum(reply, s2);
            MemorySegment.copy(r1, 0, reply, Wire.U8, DhchapReplyData.OFFSET_RVAL, hl);
            if (c2 != null) {
                MemorySegment.copy(c2, 0, reply, Wire.U8, DhchapReplyData.offsetC2(hl), hl);
            }
            MemorySegment.copy(hostValue, 0, reply, Wire.U8, DhchapReplyData.offsetDhv(hl), hostValue.length);
            send(q, reply, timeoutMillis);

            in.fill((byte) 0);
            receive(q, in, timeoutMillis);
            expect(in, Dhchap.MSG_SUCCESS1, tid);
            if (c2 != null) {
                if (!DhchapSuccess1Data.rvalid(in) || DhchapSuccess1Data.hl(in) != hl) {
                    throw refuse(q, tid, "the controller did not answer the host's challenge", Dhchap.FAILED,
                            timeoutMillis);
                }
                byte[] r2 = new byte[hl];
                MemorySegment.copy(in, Wire.U8, DhchapSuccess1Data.OFFSET_RVAL, r2, 0, hl);
                byte[] ck = ctrlSecret.transform(subnqn);
                byte[] expected = DhchapResponse.controller(hash, ck, DhchapResponse.augment(hash, sessionKey, c2), s2,
                        tid,
                        hostnqn, subnqn);
                Arrays.fill(ck, (byte) 0);
                if (!MessageDigest.isEqual(expected, r2)) {
                    throw refuse(q, tid, "the controller's response does not match the controller secret", Dhchap.FAILED,
                            timeoutMillis);
                }
                MemorySegment success2 = arena.allocate(DhchapSuccess2Data.SIZE, 8);
                AuthMessage.header(success2, Dhchap.TYPE_DHCHAP, Dhchap.MSG_SUCCESS2, tid);
                send(q, success2, timeoutMillis);
            }
            return hash.configName() + "/" + group.configName();
        } finally {
            if (sessionKey != null) Arrays.fill(sessionKey, (byte) 0);
        }
    }

    private static void expect(MemorySegment in, int id, int tid) throws DhchapException {
        if (AuthMessage.authType(in) == Dhchap.TYPE_COMMON && AuthMessage.authId(in) == Dhchap.MSG_FAILURE1) {
            int why = DhchapFailureData.rescodeExp(in);
            throw new DhchapException("the controller refused the authentication: " + Dhchap.explain(why), why);
        }
        if (AuthMessage.authType(in) != Dhchap.TYPE_DHCHAP || AuthMessage.authId(in) != id || AuthMessage.tid(in) != tid) {
            throw new DhchapException("unexpected authentication message (type " + AuthMessage.authType(in) + ", id "
                    + AuthMessage.authId(in) + ", transaction " + AuthMessage.tid(in) + ")", Dhchap.INCORRECT_MESSAGE);
        }
    }

    /** Tells the controller (AUTH_Failure2) and returns the exception to throw. */
    private static DhchapException refuse(NvmeQueue q, int tid, String why, int explanation, long timeoutMillis) {
        MemorySegment f = Arena.ofAuto().allocate(DhchapFailureData.SIZE, 8);
        DhchapFailureData.write(f, Dhchap.MSG_FAILURE2, tid, explanation);
        try {
            send(q, f, timeoutMillis);
        } catch (IOException ignored) {
            // the controller ends the association either way
        }
        return new DhchapException(why, explanation);
    }

    private static void send(NvmeQueue q, MemorySegment message, long timeoutMillis) throws IOException {
        q.execute("Authentication Send", sqe -> AuthSendCommand.dhchap(sqe, FabricsCommand.FCTYPE_AUTH_SEND,
                (int) message.byteSize()), message, true, timeoutMillis);
    }

    private static void receive(NvmeQueue q, MemorySegment buffer, long timeoutMillis) throws IOException {
        q.execute("Authentication Receive", sqe -> AuthSendCommand.dhchap(sqe, FabricsCommand.FCTYPE_AUTH_RECEIVE,
                (int) buffer.byteSize()), buffer, false, timeoutMillis);
    }
}
