package io.sanport.nvme.auth;

import java.nio.charset.StandardCharsets;
import javax.crypto.Mac;

/**
 * The values DH-HMAC-CHAP computes (NVMe Base 2.0 §8.13.5; Linux {@code nvmet_auth_host_hash},
 * {@code nvmet_auth_ctrl_hash}, {@code nvme_auth_augmented_challenge}), with the negotiated hash H:
 * <pre>
 * R1 = HMAC(Kh', C1' || SEQ1 (le32) || T_ID (le16) || 00h || "HostHost"   || NQNh || 00h || NQNs)
 * R2 = HMAC(Kc', C2' || SEQ2 (le32) || T_ID (le16) || 00h || "Controller" || NQNs || 00h || NQNh)
 * </pre>
 * Kh', Kc' the transformed secrets ({@link DhchapKey#transform}); C' the challenge itself with the NULL DH group,
 * else HMAC(H(session key), C) (the augmented challenge).
 */
public final class DhchapResponse {
    private static final byte[] HOST = "HostHost".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTROLLER = "Controller".getBytes(StandardCharsets.US_ASCII);

    private DhchapResponse() {}

    /** R1, the host's response to C1: what the controller checks. */
    public static byte[] host(DhchapHash h, byte[] transformedKey, byte[] challenge, int seqnum, int tid,
                              String hostnqn, String subnqn) {
        return compute(h, transformedKey, challenge, seqnum, tid, HOST, hostnqn, subnqn);
    }

    /** R2, the controller's response to the host's C2 (bidirectional authentication). */
    public static byte[] controller(DhchapHash h, byte[] transformedKey, byte[] challenge, int seqnum, int tid,
                                    String hostnqn, String subnqn) {
        return compute(h, transformedKey, challenge, seqnum, tid, CONTROLLER, subnqn, hostnqn);
    }

    /** The augmented challenge HMAC(H(sessionKey), challenge); {@code sessionKey} null means the NULL group. */
    public static byte[] augment(DhchapHash h, byte[] sessionKey, byte[] challenge) {
        if (sessionKey == null) return challenge;
        byte[] hashed = h.hash(sessionKey);
        try {
            return h.mac(hashed).doFinal(challenge);
        } finally {
            java.util.Arrays.fill(hashed, (byte) 0);
        }
    }

    private static byte[] compute(DhchapHash h, byte[] key, byte[] challenge, int seqnum, int tid, byte[] label,
                                  String first, String second) {
        Mac m = h.mac(key);
        m.update(challenge);
        m.update(new byte[] {(byte) seqnum, (byte) (seqnum >>> 8), (byte) (seqnum >>> 16), (byte) (seqnum >>> 24),
                (byte) tid, (byte) (tid >>> 8), 0});
        m.update(label);
        m.update(first.getBytes(StandardCharsets.UTF_8));
        m.update((byte) 0);
        m.update(second.getBytes(StandardCharsets.UTF_8));
        return m.doFinal();
    }
}
