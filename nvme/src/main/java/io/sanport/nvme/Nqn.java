package io.sanport.nvme;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * NVMe Qualified Names, NVMe Base 2.0 §4.5: {@code nqn.yyyy-mm.<reverse domain>[:<anything>]} or the UUID form
 * {@code nqn.2014-08.org.nvmexpress:uuid:<uuid>}; at most 223 bytes of UTF-8, carried NUL-terminated in 256-byte fields.
 */
public final class Nqn {
    public static final int MAX_LENGTH = 223;
    /** Size of every NQN field on the wire (Connect data, Identify SUBNQN, discovery entries). */
    public static final int FIELD_SIZE = 256;

    /** The well-known discovery subsystem NQN (nvme discover's default). */
    public static final String DISCOVERY = "nqn.2014-08.org.nvmexpress.discovery";
    public static final String UUID_PREFIX = "nqn.2014-08.org.nvmexpress:uuid:";

    // Date: a year and a month 01..12. Naming authority: reverse domain labels of letters, digits and '-'.
    private static final Pattern DOMAIN_FORM =
            Pattern.compile("nqn\\.[0-9]{4}-(0[1-9]|1[0-2])\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::.*)?",
                    Pattern.DOTALL);
    private static final Pattern UUID_FORM =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private Nqn() {}

    public static boolean isValid(String nqn) {
        return problem(nqn) == null;
    }

    /**
     * @return {@code nqn} unchanged
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public static String validate(String nqn) {
        String problem = problem(nqn);
        if (problem != null) {
            throw new IllegalArgumentException("invalid NQN \"" + nqn + "\": " + problem);
        }
        return nqn;
    }

    /** The UUID-based NQN a host without a naming authority uses (the Linux default host NQN form). */
    public static String of(UUID uuid) {
        return UUID_PREFIX + uuid;
    }

    public static boolean isDiscovery(String nqn) {
        return DISCOVERY.equals(nqn);
    }

    private static String problem(String nqn) {
        if (nqn == null || nqn.isEmpty()) {
            return "empty";
        }
        int bytes = nqn.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_LENGTH) {
            return bytes + " bytes, the maximum is " + MAX_LENGTH;
        }
        if (nqn.indexOf('\0') >= 0) {
            return "contains a NUL";
        }
        if (!nqn.startsWith("nqn.")) {
            return "does not start with \"nqn.\"";
        }
        if (nqn.startsWith(UUID_PREFIX)) {
            return UUID_FORM.matcher(nqn.substring(UUID_PREFIX.length())).matches()
                    ? null : "the UUID form needs 8-4-4-4-12 hex digits after \"" + UUID_PREFIX + "\"";
        }
        if (!DOMAIN_FORM.matcher(nqn).matches()) {
            return "expected nqn.yyyy-mm.<reverse domain name>[:<string>]";
        }
        return null;
    }
}
