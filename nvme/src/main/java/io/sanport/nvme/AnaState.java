package io.sanport.nvme;

import java.util.Locale;

/**
 * An Asymmetric Namespace Access state of one ANA group as seen through one port, NVMe Base 2.0 §8.1.3: the
 * values of the ANA log's group descriptor (bits 3:0), the names nvmet's configfs and nvmetcli use.
 */
public enum AnaState {
    OPTIMIZED(0x1, "optimized", Status.SUCCESS),
    NON_OPTIMIZED(0x2, "non-optimized", Status.SUCCESS),
    INACCESSIBLE(0x3, "inaccessible", Status.ANA_INACCESSIBLE),
    PERSISTENT_LOSS(0x4, "persistent-loss", Status.ANA_PERSISTENT_LOSS),
    CHANGE(0xF, "change", Status.ANA_TRANSITION);

    /** Identify Controller ANACAP bits 0-4: every state above may be reported. */
    public static final int ANACAP_ALL = 0x1F;

    private final int value;
    private final String configName;
    private final int ioStatus;

    AnaState(int value, String configName, int ioStatus) {
        this.value = value;
        this.configName = configName;
        this.ioStatus = ioStatus;
    }

    /** The log page value. */
    public int value() { return value; }

    /** nvmetcli's spelling ("non-optimized"). */
    public String configName() { return configName; }

    /** Whether I/O commands may run on a path in this state. */
    public boolean accessible() { return ioStatus == Status.SUCCESS; }

    /**
     * What an I/O command gets on a path in this state (SCT 3 path related, so a multipath host tries another
     * path), or {@link Status#SUCCESS}.
     */
    public int ioStatus() { return ioStatus; }

    /** The state nvmetcli names {@code name} (case and '_' for '-' tolerated); null if none. */
    public static AnaState parse(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (AnaState s : values()) {
            if (s.configName.equals(n)) return s;
        }
        return null;
    }

    /** The state of log page value {@code v}; null if none. */
    public static AnaState of(int v) {
        for (AnaState s : values()) {
            if (s.value == v) return s;
        }
        return null;
    }

    /** The names, for messages: "optimized, non-optimized, ...". */
    public static String names() {
        StringBuilder b = new StringBuilder();
        for (AnaState s : values()) {
            if (!b.isEmpty()) b.append(", ");
            b.append(s.configName);
        }
        return b.toString();
    }

    @Override
    public String toString() { return configName; }
}
