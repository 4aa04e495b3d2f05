package io.sanport.cli;

import io.sanport.client.Discovery;
import io.sanport.client.DiscoveryRecord;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sanport discover}: nvme discover, from Java. */
@Command(name = "discover", mixinStandardHelpOptions = true,
        description = "List the subsystems an NVMe-oF discovery controller offers (like 'nvme discover').")
final class DiscoverCommand implements Callable<Integer> {
    @Mixin
    RemoteOptions remote;
    @Option(names = {"-s", "--port"}, description = "Discovery service port (default: 8009 for tcp, 4420 for rdma, as nvme-cli).")
    Integer port;

    @Override
    public Integer call() throws Exception {
        List<DiscoveryRecord> records = Discovery.discover(remote.address, port != null ? port : remote.transport.equals("rdma") ? 4420 : 8009, remote.connectOptions().withIoQueues(0));
        System.out.println("Discovery Log Number of Records " + records.size());
        int i = 0;
        for (DiscoveryRecord r : records) {
            System.out.println("=====Discovery Log Entry " + i++ + "======");
            System.out.println(r);
        }
        return 0;
    }
}
