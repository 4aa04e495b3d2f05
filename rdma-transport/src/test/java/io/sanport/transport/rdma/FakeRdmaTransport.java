package io.sanport.transport.rdma;

import io.sanport.hostdriver.Port;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.RemoteTransport;
import io.sanport.nvme.fabrics.DiscoveryLogEntry;

/**
 * The "rdma-fake" port type of the tests: NVMe/RDMA's Identify values, and a listener that listens to nothing;
 * {@link RdmaLoopback} makes its queues over the {@link FakeVerbsProvider} instead of RDMA CM.
 */
public final class FakeRdmaTransport implements RemoteTransport {
    static final String TYPE = "rdma-fake";
    private final RdmaTransport rdma = new RdmaTransport();

    @Override public String type() { return TYPE; }
    @Override public int trtype() { return DiscoveryLogEntry.TRTYPE_RDMA; }
    @Override public int ioccsz() { return rdma.ioccsz(); }
    @Override public int sgls() { return rdma.sgls(); }

    @Override
    public Listener listen(Port port, Target target) {
        return new Listener() {
            @Override public int boundPort() { return 4420; }
            @Override public void close() { }
        };
    }
}
