package io.sanport.client;

import io.sanport.nvme.LogPageId;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.fabrics.DiscoveryLogPage;
import io.sanport.nvme.tcp.PduHeader;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * NVMe-oF discovery over TCP (fact sheet §7.2): connect to the well-known discovery NQN (port 8009 by default,
 * KATO 0, no I/O queues), read the discovery log page (LID 70h) header, then the whole log, again while GENCTR
 * moves, and disconnect.
 */
public final class Discovery {
    private static final int ATTEMPTS = 5;

    private Discovery() {}

    public static List<DiscoveryRecord> discover(String host, ConnectOptions options) throws IOException {
        return discover(host, PduHeader.PORT_DISCOVERY, options);
    }

    public static List<DiscoveryRecord> discover(String host, int port, ConnectOptions options) throws IOException {
        try (RemoteController c = RemoteController.connect(host, port, Nqn.DISCOVERY,
                options.withIoQueues(0).withKato(0))) {
            return read(c);
        }
    }

    static List<DiscoveryRecord> read(RemoteController c) throws IOException {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            MemorySegment header = c.getLogPage(LogPageId.DISCOVERY, 0, 0, DiscoveryLogPage.SIZE);
            long genctr = DiscoveryLogPage.genctr(header);
            long numrec = DiscoveryLogPage.numrec(header);
            if (numrec < 0 || numrec > 1024) {
                throw new IOException(c + ": discovery log claims " + numrec + " records");
            }
            List<DiscoveryRecord> records = new ArrayList<>();
            if (numrec > 0) {
                MemorySegment log = c.getLogPage(LogPageId.DISCOVERY, 0, 0, DiscoveryLogPage.length(numrec));
                if (DiscoveryLogPage.genctr(log) != genctr || DiscoveryLogPage.numrec(log) != numrec) {
                    continue; // changed under us: read again, as libnvme does
                }
                for (long i = 0; i < numrec; i++) {
                    records.add(DiscoveryRecord.of(log.asSlice(DiscoveryLogPage.entryOffset(i), DiscoveryLogPage.ENTRY_SIZE)));
                }
            }
            return records;
        }
        throw new IOException(c + ": discovery log kept changing over " + ATTEMPTS + " reads");
    }
}
