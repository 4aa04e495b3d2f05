package io.sanport.testcontainers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.client.ConnectOptions;
import io.sanport.client.Discovery;
import io.sanport.client.DiscoveryRecord;
import io.sanport.client.NvmeException;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import io.sanport.nvme.Nqn;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.output.Slf4jLogConsumer;

/** One SanportContainer, used from the host: the README's example, discovery through the mapped port, allowed hosts. */
@DockerTest
@Timeout(120)
class SanportContainerTest {
    private static final Slf4jLogConsumer LOG = new Slf4jLogConsumer(LoggerFactory.getLogger("container"));

    @Test
    void hostWritesAndReadsANamespaceFoundThroughDiscovery() throws IOException {
        try (SanportContainer target = new SanportContainer().withNamespaceSize("64M").withReactors(1)
                .withLogConsumer(LOG.withPrefix("target"))) {
            target.start();
            assertTrue(target.getLogs().contains("serving"), target.getLogs());

            ConnectOptions options = ConnectOptions.defaults().withIoQueues(1);
            List<DiscoveryRecord> records = Discovery.discover(target.getNvmeTcpAddress(), target.getDiscoveryPort(), options);
            DiscoveryRecord rec = records.stream().filter(DiscoveryRecord::isSubsystem).findFirst().orElseThrow();
            assertEquals(target.getSubsystemNqn(), rec.subnqn(), records.toString());
            assertEquals("4420", rec.trsvcid().trim());
            assertEquals(target.getContainerIpAddress(), rec.traddr().trim(), "traddr is the container's own address");
            var endpoint = target.hostEndpoint(rec.trsvcid());
            assertEquals(target.getNvmeTcpPort(), endpoint.getPort());

            try (RemoteController c = RemoteController.connect(endpoint.getHostString(), endpoint.getPort(), rec.subnqn(), options);
                 Arena arena = Arena.ofShared()) {
                RemoteNamespace ns = c.namespace(1);
                assertEquals(64L << 20, ns.sizeBytes());
                MemorySegment out = ns.allocate(arena, 64 * 1024);
                for (long i = 0; i < out.byteSize() / 8; i++) {
                    out.setAtIndex(ValueLayout.JAVA_LONG, i, 0x5A17_0000_0000L + i);
                }
                ns.write(1024, out, true);
                MemorySegment in = ns.allocate(arena, 64 * 1024);
                ns.read(1024, in);
                assertEquals(-1L, out.mismatch(in), "read back differs");
            }
        }
    }

    /** The example of docker/README.md, as it stands there. */
    @Test
    void readmeExample() throws IOException {
        try (var target = new SanportContainer().withNamespaceSize("64M")) {
            target.start();
            try (var c = RemoteController.connect(target.getNvmeTcpAddress(), target.getNvmeTcpPort(),
                         target.getSubsystemNqn(), ConnectOptions.defaults().withIoQueues(1));
                 var arena = Arena.ofShared()) {
                RemoteNamespace ns = c.namespace(1);
                MemorySegment buf = ns.allocate(arena, 4096).fill((byte) 7);
                ns.write(0, buf);
                MemorySegment back = ns.allocate(arena, 4096);
                ns.read(0, back);
                assertEquals(-1, buf.mismatch(back));
            }
        }
    }

    @Test
    void onlyTheAllowedHostConnects() throws IOException {
        UUID id = UUID.randomUUID();
        String allowed = Nqn.of(id);
        try (SanportContainer target = new SanportContainer().withNamespaceSize("16M").withReactors(1)
                .withAllowedHost(allowed).withLogConsumer(LOG.withPrefix("allow"))) {
            target.start();
            ConnectOptions stranger = ConnectOptions.defaults().withIoQueues(1);
            NvmeException refused = assertThrows(NvmeException.class, () -> RemoteController.connect(
                    target.getNvmeTcpAddress(), target.getNvmeTcpPort(), target.getSubsystemNqn(), stranger).close());
            assertTrue(refused.getMessage().contains("Connect"), refused.getMessage());
            try (RemoteController c = RemoteController.connect(target.getNvmeTcpAddress(), target.getNvmeTcpPort(),
                    target.getSubsystemNqn(), stranger.withHost(allowed, id))) {
                assertEquals(16L << 20, c.namespace(1).sizeBytes());
            }
        }
    }
}
