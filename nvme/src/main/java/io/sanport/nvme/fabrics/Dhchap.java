package io.sanport.nvme.fabrics;

/**
 * Identifiers of NVMe in-band authentication with DH-HMAC-CHAP (NVMe Base 2.0 §8.13, TP 8006), as Linux's
 * {@code include/linux/nvme.h} names them.
 */
public final class Dhchap {
    /** SECP of Authentication Send/Receive for these messages. */
    public static final int PROTOCOL_IDENTIFIER = 0xE9;
    /** AUTHID of a protocol descriptor in AUTH_Negotiate. */
    public static final int AUTH_ID = 0x01;

    /** AUTH-TYPE: common messages (AUTH_Negotiate, AUTH_Failure1) or DH-HMAC-CHAP ones. */
    public static final int TYPE_COMMON = 0x00;
    public static final int TYPE_DHCHAP = 0x01;

    /**
     * AUTH-ID of each message (NVMe Base 2.0 figures 545 and 560; Linux's NVME_AUTH_DHCHAP_MESSAGE_*): Success1
     * is 03h, Success2 04h, and the two failures sit at the top, AUTH_Failure2 F0h and AUTH_Failure1 F1h.
     */
    public static final int MSG_NEGOTIATE = 0x00;
    public static final int MSG_CHALLENGE = 0x01;
    public static final int MSG_REPLY = 0x02;
    public static final int MSG_SUCCESS1 = 0x03;
    public static final int MSG_SUCCESS2 = 0x04;
    public static final int MSG_FAILURE2 = 0xF0;
    public static final int MSG_FAILURE1 = 0xF1;

    /** Hash function identifiers (HashID). */
    public static final int HASH_SHA256 = 0x01;
    public static final int HASH_SHA384 = 0x02;
    public static final int HASH_SHA512 = 0x03;

    /** Diffie-Hellman group identifiers (DHgroupID). */
    public static final int DHGROUP_NULL = 0x00;
    public static final int DHGROUP_FFDHE2048 = 0x01;
    public static final int DHGROUP_FFDHE3072 = 0x02;
    public static final int DHGROUP_FFDHE4096 = 0x03;
    public static final int DHGROUP_FFDHE6144 = 0x04;
    public static final int DHGROUP_FFDHE8192 = 0x05;

    /** SC_C (secure channel concatenation) of AUTH_Negotiate: none, new TLS PSK, replace TLS PSK. */
    public static final int SC_C_NONE = 0x00;
    public static final int SC_C_NEW_TLS_PSK = 0x01;
    public static final int SC_C_REPLACE_TLS_PSK = 0x02;

    /** Reason code of a failure message, and its explanations. */
    public static final int REASON_FAILED = 0x01;
    public static final int FAILED = 0x01;
    public static final int NOT_USABLE = 0x02;
    public static final int CONCAT_MISMATCH = 0x03;
    public static final int HASH_UNUSABLE = 0x04;
    public static final int DHGROUP_UNUSABLE = 0x05;
    public static final int INCORRECT_PAYLOAD = 0x06;
    public static final int INCORRECT_MESSAGE = 0x07;

    /** Most hash or DH group identifiers a protocol descriptor lists. */
    public static final int MAX_IDS = 30;

    private Dhchap() {}

    /** A failure explanation in words, for logs and exceptions. */
    public static String explain(int code) {
        return switch (code) {
            case FAILED -> "authentication failed";
            case NOT_USABLE -> "authentication protocol not usable";
            case CONCAT_MISMATCH -> "secure channel concatenation mismatch";
            case HASH_UNUSABLE -> "hash function not usable";
            case DHGROUP_UNUSABLE -> "DH group not usable";
            case INCORRECT_PAYLOAD -> "incorrect payload";
            case INCORRECT_MESSAGE -> "incorrect protocol message";
            default -> "reason " + code;
        };
    }
}
