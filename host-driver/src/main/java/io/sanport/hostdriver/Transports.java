package io.sanport.hostdriver;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/** The {@link RemoteTransport}s on the class path, by type; two of one type are refused, as nvmet refuses them. */
public final class Transports {
    private static final Map<String, RemoteTransport> BY_TYPE = load();

    private Transports() {}

    private static Map<String, RemoteTransport> load() {
        Map<String, RemoteTransport> found = new HashMap<>();
        for (RemoteTransport t : ServiceLoader.load(RemoteTransport.class, Transports.class.getClassLoader())) {
            RemoteTransport previous = found.putIfAbsent(t.type(), t);
            if (previous != null) {
                throw new IllegalStateException("two transports of type " + t.type() + ": "
                        + previous.getClass().getName() + " and " + t.getClass().getName());
            }
        }
        return Map.copyOf(found);
    }

    /** The transport of {@code type}, or null when none is on the class path. */
    public static RemoteTransport find(String type) {
        return BY_TYPE.get(type);
    }

    /** The discovery log's TRTYPE of a configuration name (a referral's transport need not be loaded here). */
    static int trtypeCode(String type) {
        return switch (type) {
            case "rdma" -> io.sanport.nvme.fabrics.DiscoveryLogEntry.TRTYPE_RDMA;
            case "fc" -> io.sanport.nvme.fabrics.DiscoveryLogEntry.TRTYPE_FC;
            case "loop" -> io.sanport.nvme.fabrics.DiscoveryLogEntry.TRTYPE_LOOP;
            default -> io.sanport.nvme.fabrics.DiscoveryLogEntry.TRTYPE_TCP;
        };
    }

    public static List<String> types() {
        return BY_TYPE.keySet().stream().sorted().toList();
    }
}
