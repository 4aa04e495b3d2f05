package io.sanport.testcontainers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;

/**
 * The TCP half of docker/compose.yaml: a target container and a client container on one network; the client
 * finds the target by name with {@code sanport discover} and runs {@code sanport bench remote} against it.
 */
@DockerTest
@Timeout(180)
class ClientContainerTest {

    private static GenericContainer<?> oneShot(Network network, String... command) {
        return new GenericContainer<>(SanportContainer.DEFAULT_IMAGE).withImagePullPolicy(name -> false)
                .withNetwork(network).withCommand(command)
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(90)));
    }

    @Test
    void aClientContainerDiscoversAndBenchmarksTheTargetByName() {
        try (Network network = Network.newNetwork();
             SanportContainer target = new SanportContainer().withNetwork(network).withNetworkAliases("target")
                     .withNamespaceSize("64M").withReactors(1)
                     .withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger("target")))) {
            target.start();
            String nqn = target.getSubsystemNqn();

            try (GenericContainer<?> discover = oneShot(network, "discover", "-a", "target")) {
                discover.start();
                String out = discover.getLogs();
                LoggerFactory.getLogger("discover").info("\n{}", out);
                assertTrue(out.contains("subnqn=" + nqn), out);
                assertTrue(out.contains("traddr=" + target.getContainerIpAddress()), out);
            }

            try (GenericContainer<?> bench = oneShot(network, "bench", "remote", "-a", "target", "-n", nqn,
                    "--rw", "randwrite", "--bs", "4k", "--qd", "16", "--queues", "1", "--seconds", "3", "--ramp", "1")) {
                bench.start();
                String out = bench.getLogs();
                LoggerFactory.getLogger("bench").info("\n{}", out);
                assertTrue(out.contains("sanport-remote randwrite bs=4k qd=16:") && out.contains("IOPS"), out);
            }
        }
    }
}
