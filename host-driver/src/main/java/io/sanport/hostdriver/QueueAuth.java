package io.sanport.hostdriver;

import io.sanport.nvme.Status;
import io.sanport.nvme.auth.DhExchange;
import io.sanport.nvme.auth.DhGroup;
import io.sanport.nvme.auth.DhchapHash;
import io.sanport.nvme.auth.DhchapResponse;
import io.sanport.nvme.fabrics.AuthMessage;
import io.sanport.nvme.fabrics.AuthNegotiateData;
import io.sanport.nvme.fabrics.AuthReceiveCommand;
import io.sanport.nvme.fabrics.AuthSendCommand;
import io.sanport.nvme.fabrics.Dhchap;
import io.sanport.nvme.fabrics.DhchapChallengeData;
import io.sanport.nvme.fabrics.DhchapFailureData;
import io.sanport.nvme.fabrics.DhchapReplyData;
import io.sanport.nvme.fabrics.DhchapSuccess1Data;
import io.sanport.nvme.Wire;
import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The controller side of DH-HMAC-CHAP on one queue (NVMe Base 2.0 §8.13; the steps and failure codes of Linux
 * nvmet's {@code fabrics-cmd-auth.c}): AUTH_Negotiate, Challenge, Reply, Success1, and Success2 when the host
 * authenticates the controller too. Until it succeeds the queue takes only authentication commands and
 * Property Get. A failure is told to the host in AUTH_Failure1 and ends the controller, as nvmet's fatal error
 * does; the host may negotiate again on an authenticated queue (re-authentication). Confined to the queue's
 * reactor thread; secrets and derived values never reach a log.
 */
final class QueueAuth {
    private static final System.Logger LOG = System.getLogger("sanport.target");
    private static final RateLimitedLog FAILED = new RateLimitedLog(LOG, 1000);
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * Where the FFDHE math runs (up to ~40 ms for ffdhe8192): never on a reactor, whose other queues would wait.
     * One task per queue at most (its {@link #busy} flag); daemon threads, nothing to close.
     */
    private static final ExecutorService CRYPTO = Executors.newFixedThreadPool(
            Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2)),
            Thread.ofPlatform().daemon().name("sanport-dhchap-", 0).factory());
    /** Largest message taken or given: a Reply with SHA-512 and ffdhe8192 is 1168 bytes; Linux offers 4096. */
    static final int MAX_LENGTH = 4096;

    private final QueuePair queue;
    private final Controller controller;
    private boolean authenticated;
    private int step = Dhchap.MSG_NEGOTIATE;
    private int tid = -1;
    private int failure;            // the explanation Failure1 carries
    private DhchapHash hash;
    private DhGroup group;
    private byte[] c1;
    private int s1;
    private byte[] c2;              // the host's challenge (bidirectional), null when none
    private int s2;
    private DhExchange dh;
    private byte[] sessionKey;
    private boolean busy;            // a DH computation for this queue runs on CRYPTO; its command waits
    private DhExchange preparedDh;   // made on CRYPTO for the next Challenge
    private boolean keyPrepared;     // the Reply's session key was computed on CRYPTO (null: the value was refused)
    private byte[] preparedKey;

    QueueAuth(QueuePair queue, Controller controller) {
        this.queue = queue;
        this.controller = controller;
    }

    boolean authenticated() { return authenticated; }

    /** Checks of Authentication Send/Receive before any data moves (nvmet: Invalid Field + DNR). */
    static int parse(Request r, boolean send) {
        MemorySegment sqe = r.sqe;
        if (AuthSendCommand.secp(sqe) != Dhchap.PROTOCOL_IDENTIFIER) {
            r.errorLocation = (int) AuthSendCommand.OFFSET_SECP;
            return Status.INVALID_FIELD;
        }
        if (AuthSendCommand.spsp0(sqe) != 0x01) {
            r.errorLocation = (int) AuthSendCommand.OFFSET_SPSP0;
            return Status.INVALID_FIELD;
        }
        if (AuthSendCommand.spsp1(sqe) != 0x01) {
            r.errorLocation = (int) AuthSendCommand.OFFSET_SPSP1;
            return Status.INVALID_FIELD;
        }
        int length = AuthSendCommand.tl(sqe); // AL of a Receive: the same field
        if (length == 0 || Integer.compareUnsigned(length, MAX_LENGTH) > 0) {
            r.errorLocation = (int) AuthSendCommand.OFFSET_TL;
            return Status.INVALID_FIELD;
        }
        r.hostToController = send;
        return Fabrics.expect(r, length);
    }

    /**
     * Runs Authentication Send or Receive {@code r}; true when it completes later, its DH math done off the
     * reactor; false when it is done (the caller completes it), {@link Request#endsController} set.
     */
    boolean start(Request r, boolean send) {
        if (busy) {
            r.fail(Status.CMD_SEQ_ERROR, (int) AuthSendCommand.OFFSET_FCTYPE); // one authentication command at a time
            return false;
        }
        Supplier<Runnable> heavy = send ? replyMath(r.data()) : challengeMath();
        if (heavy == null) {
            r.endsController = send ? send(r) : receive(r);
            return false;
        }
        busy = true;
        r.inDevice = true; // a closing queue waits for it, as for a device I/O
        CRYPTO.execute(() -> {
            Runnable done = heavy.get();
            try {
                queue.reactor().execute(() -> finish(r, send, done));
            } catch (RejectedExecutionException closing) {
                // the reactor is gone, and the queue with it
            }
        });
        return true;
    }

    /** The DH key pair the next Challenge needs, made on CRYPTO; null when there is nothing heavy to do. */
    private Supplier<Runnable> challengeMath() {
        if (step != Dhchap.MSG_CHALLENGE || group == null || group == DhGroup.NULL) {
            return null;
        }
        DhGroup g = group;
        return () -> {
            DhExchange x = new DhExchange(g, RANDOM);
            x.publicValue();
            return () -> preparedDh = x;
        };
    }

    /** The session key of a well-formed Reply with a DH value, computed on CRYPTO; null otherwise (no math). */
    private Supplier<Runnable> replyMath(MemorySegment d) {
        long tl = d.byteSize();
        if (step != Dhchap.MSG_REPLY || dh == null || tl < DhchapReplyData.SIZE
                || AuthMessage.authType(d) != Dhchap.TYPE_DHCHAP || AuthMessage.authId(d) != Dhchap.MSG_REPLY) {
            return null;
        }
        int hl = DhchapReplyData.hl(d);
        int dhvlen = DhchapReplyData.dhvlen(d);
        if (dhvlen != group.valueLength() || DhchapReplyData.size(hl, dhvlen) > tl) {
            return null;
        }
        byte[] peer = new byte[dhvlen];
        MemorySegment.copy(d, Wire.U8, DhchapReplyData.offsetDhv(hl), peer, 0, dhvlen);
        DhExchange x = dh;
        return () -> {
            byte[] key;
            try {
                key = x.sessionKey(peer);
            } catch (IllegalArgumentException e) {
                key = null;
            }
            byte[] k = key;
            return () -> {
                keyPrepared = true;
                preparedKey = k;
            };
        };
    }

    /** Back on the reactor: the prepared value in place, the command runs as if it had never waited. */
    private void finish(Request r, boolean send, Runnable prepared) {
        busy = false;
        r.inDevice = false;
        if (!queue.ending()) {
            prepared.run();
            try {
                r.endsController = send ? send(r) : receive(r);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, controller + ": queue " + queue.qid() + ": authentication", e);
                r.fail(Status.INTERNAL, 0xFFFF);
                r.endsController = true;
            }
        }
        keyPrepared = false;
        if (preparedKey != null) {
            Arrays.fill(preparedKey, (byte) 0); // a transaction that ends early leaves no key behind
        }
        preparedKey = null;
        preparedDh = null;
        queue.completeHeld(r);
    }

    /** Authentication Send: takes the host's message; returns true when the controller must end after the completion. */
    boolean send(Request r) {
        MemorySegment d = r.data();
        if (d.byteSize() < AuthMessage.MIN_SIZE) {
            return abort("a " + d.byteSize() + "-byte message");
        }
        int type = AuthMessage.authType(d);
        int id = AuthMessage.authId(d);
        if (type == Dhchap.TYPE_COMMON && id == Dhchap.MSG_NEGOTIATE) {
            forget(); // a new transaction, or re-authentication on an authenticated queue
            if (queue.qid() == 0) {
                // as nvmet: the admin queue takes the host's settings as they are now (rotated secrets)
                TargetConfig.DhchapConfig now = queue.target.connections().dhchapFor(controller.subsystem(), controller.hostnqn());
                if (now != null) {
                    controller.dhchap(now);
                }
            }
            int code = negotiate(d);
            if (code == 0) {
                step = Dhchap.MSG_CHALLENGE;
            } else {
                fail(code, "negotiation");
            }
            return false;
        }
        // AUTH_Failure2 comes with either type: Linux hosts before 6.x sent it as a DH-HMAC-CHAP message, later
        // ones as a common message (as the spec lists it)
        if (id == Dhchap.MSG_FAILURE2 && d.byteSize() >= DhchapFailureData.SIZE) {
            return abort("the host refused the controller's response (" + Dhchap.explain(DhchapFailureData.rescodeExp(d)) + ")");
        }
        if (type != Dhchap.TYPE_DHCHAP) {
            return abort("message type " + type + " id " + id + " out of sequence");
        }
        if (id != step) {
            return abort("message " + id + " where step " + step + " was due");
        }
        if (AuthMessage.tid(d) != tid) {
            fail(Dhchap.INCORRECT_PAYLOAD, "transaction " + AuthMessage.tid(d) + " where " + tid + " was due");
            return false;
        }
        if (id == Dhchap.MSG_REPLY) {
            int code = reply(d);
            if (code == 0) {
                step = Dhchap.MSG_SUCCESS1;
            } else {
                fail(code, "reply");
            }
            return false;
        }
        if (id == Dhchap.MSG_SUCCESS2) {
            authenticated = true; // the host checked our R2
            LOG.log(System.Logger.Level.DEBUG, () -> controller + ": queue " + queue.qid() + " authenticated both ways");
            forget();
            step = Dhchap.MSG_NEGOTIATE;
            return false;
        }
        return abort("message " + id + " unexpected");
    }

    /** Authentication Receive: writes the message due into the buffer; returns true when the controller must end after it. */
    boolean receive(Request r) {
        MemorySegment d = r.data();
        d.fill((byte) 0);
        int al = AuthReceiveCommand.al(r.sqe);
        switch (step) {
            case Dhchap.MSG_CHALLENGE -> {
                int dhvlen = group == DhGroup.NULL ? 0 : group.valueLength();
                if (al < DhchapChallengeData.size(hash.length(), dhvlen)) {
                    r.fail(Status.INVALID_FIELD, (int) AuthReceiveCommand.OFFSET_AL);
                    return false;
                }
                challenge(d, dhvlen);
                step = Dhchap.MSG_REPLY;
                return false;
            }
            case Dhchap.MSG_SUCCESS1 -> {
                long need = DhchapSuccess1Data.SIZE + (c2 != null ? hash.length() : 0);
                if (al < need) {
                    r.fail(Status.INVALID_FIELD, (int) AuthReceiveCommand.OFFSET_AL);
                    return false;
                }
                if (c2 != null && controller.dhchap().ctrlKey() == null) {
                    failure = Dhchap.FAILED;
                    return failure1(d, "the host asked the controller to authenticate, but it has no dhchap_ctrl_key");
                }
                AuthMessage.header(d, Dhchap.TYPE_DHCHAP, Dhchap.MSG_SUCCESS1, tid);
                DhchapSuccess1Data.hl(d, hash.length());
                if (c2 != null) {
                    String subnqn = controller.subsystem().nqn();
                    byte[] key = controller.dhchap().ctrlKey().transform(subnqn);
                    byte[] r2 = DhchapResponse.controller(hash, key, DhchapResponse.augment(hash, sessionKey, c2), s2, tid,
                            controller.hostnqn(), subnqn);
                    Arrays.fill(key, (byte) 0);
                    DhchapSuccess1Data.rvalid(d, true);
                    MemorySegment.copy(r2, 0, d, Wire.U8, DhchapSuccess1Data.OFFSET_RVAL, r2.length);
                    step = Dhchap.MSG_SUCCESS2;
                } else {
                    LOG.log(System.Logger.Level.DEBUG, () -> controller + ": queue " + queue.qid() + " authenticated");
                    forget();
                    step = Dhchap.MSG_NEGOTIATE;
                }
                return false;
            }
            case Dhchap.MSG_FAILURE1 -> {
                return failure1(d, Dhchap.explain(failure));
            }
            default -> {
                failure = Dhchap.FAILED;
                return failure1(d, "an Authentication Receive at step " + step);
            }
        }
    }

    /** nvmet {@code nvmet_auth_negotiate}: returns 0 or the failure explanation. */
    private int negotiate(MemorySegment d) {
        if (d.byteSize() < AuthNegotiateData.SIZE) {
            return Dhchap.INCORRECT_PAYLOAD;
        }
        tid = AuthMessage.tid(d);
        if (AuthNegotiateData.scC(d) != Dhchap.SC_C_NONE) {
            return Dhchap.CONCAT_MISMATCH; // secure channel concatenation (a TLS PSK from the session) is not supported
        }
        if (AuthNegotiateData.napd(d) != 1) {
            return Dhchap.HASH_UNUSABLE;
        }
        if (AuthNegotiateData.authid(d) != Dhchap.AUTH_ID) {
            return Dhchap.INCORRECT_PAYLOAD;
        }
        int halen = AuthNegotiateData.halen(d);
        int dhlen = AuthNegotiateData.dhlen(d);
        if (halen > Dhchap.MAX_IDS || dhlen > Dhchap.MAX_IDS) {
            return Dhchap.INCORRECT_PAYLOAD;
        }
        TargetConfig.DhchapConfig cfg = controller.dhchap();
        DhchapHash chosen = null;
        DhchapHash fallback = null;
        for (int i = 0; i < halen; i++) {
            DhchapHash h = DhchapHash.byId(AuthNegotiateData.hashId(d, i));
            if (h == cfg.hash()) chosen = h;
            if (fallback == null) fallback = h;
        }
        hash = chosen != null ? chosen : fallback;
        if (hash == null) {
            return Dhchap.HASH_UNUSABLE;
        }
        DhGroup g = null;
        DhGroup other = null;
        for (int i = 0; i < dhlen; i++) {
            DhGroup x = DhGroup.byId(AuthNegotiateData.dhgroupId(d, i));
            if (x == cfg.dhgroup()) g = x;
            if (other == null) other = x;
        }
        group = g != null ? g : other;
        if (group == null) {
            return Dhchap.DHGROUP_UNUSABLE;
        }
        return 0;
    }

    private void challenge(MemorySegment d, int dhvlen) {
        int hl = hash.length();
        c1 = new byte[hl];
        RANDOM.nextBytes(c1);
        do {
            s1 = RANDOM.nextInt();
        } while (s1 == 0);
        AuthMessage.header(d, Dhchap.TYPE_DHCHAP, Dhchap.MSG_CHALLENGE, tid);
        DhchapChallengeData.hl(d, hl);
        DhchapChallengeData.hashId(d, hash.id());
        DhchapChallengeData.dhgroupId(d, group.id());
        DhchapChallengeData.dhvlen(d, dhvlen);
        DhchapChallengeData.seqnum(d, s1);
        MemorySegment.copy(c1, 0, d, Wire.U8, DhchapChallengeData.OFFSET_CVAL, hl);
        if (dhvlen > 0) {
            dh = preparedDh != null ? preparedDh : new DhExchange(group, RANDOM); // a fresh exponent per transaction
            preparedDh = null;
            byte[] y = dh.publicValue();
            MemorySegment.copy(y, 0, d, Wire.U8, DhchapChallengeData.OFFSET_CVAL + hl, y.length);
        }
    }

    /** nvmet {@code nvmet_auth_reply}: checks R1; returns 0 or the failure explanation. */
    private int reply(MemorySegment d) {
        long tl = d.byteSize();
        if (tl < DhchapReplyData.SIZE) {
            return Dhchap.INCORRECT_PAYLOAD;
        }
        int hl = DhchapReplyData.hl(d);
        int dhvlen = DhchapReplyData.dhvlen(d);
        if (DhchapReplyData.size(hl, dhvlen) > tl) {
            return Dhchap.INCORRECT_PAYLOAD;
        }
        if (hl != hash.length()) {
            return Dhchap.INCORRECT_PAYLOAD;
        }
        if ((group == DhGroup.NULL) != (dhvlen == 0)) {
            return Dhchap.INCORRECT_PAYLOAD;
        }
        if (dhvlen > 0) {
            byte[] peer = new byte[dhvlen];
            MemorySegment.copy(d, Wire.U8, DhchapReplyData.offsetDhv(hl), peer, 0, dhvlen);
            if (keyPrepared) {
                sessionKey = preparedKey;
                preparedKey = null;
            } else {
                try {
                    sessionKey = dh.sessionKey(peer);
                } catch (IllegalArgumentException e) {
                    sessionKey = null;
                }
            }
            if (sessionKey == null) {
                return Dhchap.DHGROUP_UNUSABLE;
            }
        }
        byte[] r1 = new byte[hl];
        MemorySegment.copy(d, Wire.U8, DhchapReplyData.OFFSET_RVAL, r1, 0, hl);
        String hostnqn = controller.hostnqn();
        byte[] key = controller.dhchap().key().transform(hostnqn);
        byte[] expected = DhchapResponse.host(hash, key, DhchapResponse.augment(hash, sessionKey, c1), s1, tid,
                hostnqn, controller.subsystem().nqn());
        Arrays.fill(key, (byte) 0);
        if (!MessageDigest.isEqual(expected, r1)) {
            return Dhchap.FAILED; // a wrong secret
        }
        s2 = DhchapReplyData.seqnum(d);
        boolean cvalid = DhchapReplyData.cvalid(d);
        if (cvalid && s2 != 0) {
            c2 = new byte[hl];
            MemorySegment.copy(d, Wire.U8, DhchapReplyData.offsetC2(hl), c2, 0, hl);
        } else {
            authenticated = true; // no bidirectional authentication: the host is in now
        }
        return 0;
    }

    private void fail(int code, String what) {
        failure = code;
        step = Dhchap.MSG_FAILURE1;
        authenticated = false;
        forgetSecrets();
        FAILED.warn(() -> "authentication of " + controller.hostnqn() + " at " + queue.peer() + " to "
                + controller.subsystem().nqn() + " (controller " + controller.cntlid() + ", queue " + queue.qid()
                + ") failed at " + what + ": " + Dhchap.explain(code));
    }

    /** A protocol breach in an Authentication Send (nvmet: Failure2 state, fatal): the controller ends. */
    private boolean abort(String why) {
        authenticated = false;
        forget();
        FAILED.warn(() -> "authentication of " + controller.hostnqn() + " at " + queue.peer() + " to "
                + controller.subsystem().nqn() + " (controller " + controller.cntlid() + ", queue " + queue.qid()
                + ") ended: " + why);
        return true;
    }

    private boolean failure1(MemorySegment d, String why) {
        DhchapFailureData.write(d, Dhchap.MSG_FAILURE1, tid, failure);
        authenticated = false;
        forget();
        FAILED.warn(() -> "authentication of " + controller.hostnqn() + " at " + queue.peer() + " to "
                + controller.subsystem().nqn() + " refused (" + why + "); ending controller " + controller.cntlid());
        return true;
    }

    private void forgetSecrets() {
        if (sessionKey != null) Arrays.fill(sessionKey, (byte) 0);
        sessionKey = null;
        dh = null;
        c1 = null;
        c2 = null;
    }

    private void forget() {
        forgetSecrets();
        step = Dhchap.MSG_NEGOTIATE;
    }
}
