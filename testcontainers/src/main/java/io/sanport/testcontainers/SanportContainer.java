package io.sanport.testcontainers;

import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.containers.wait.strategy.LogMessageWaitStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * A sanport NVMe-oF target in a container: {@code sanport export} of one namespace over NVMe/TCP on port 4420,
 * with the discovery service on port 8009, both mapped to the Docker host.
 *
 * <p>The image is {@code sanport:dev}, built locally by {@code docker/build.sh} ({@code FROM scratch}: nothing to
 * pull); the container never pulls it. The container gets {@code CAP_IPC_LOCK} (sanport pins its I/O buffers for
 * io_uring) and nothing else beyond Docker's defaults. By default the namespace is a 256 MiB RAM disk any host
 * may use; {@link #withDataVolume} puts a file-backed namespace on a named Docker volume so its data outlives the
 * container.
 *
 * <pre>{@code
 * try (var target = new SanportContainer().withNamespaceSize("64M")) {
 *     target.start();
 *     try (var c = RemoteController.connect(target.getNvmeTcpAddress(), target.getNvmeTcpPort(),
 *             target.getSubsystemNqn(), ConnectOptions.defaults().withIoQueues(1))) {
 *         c.namespace(1).write(0, buffer);
 *     }
 * }
 * }</pre>
 *
 * <p>The discovery log a container serves names the address and port <em>inside</em> its network (its
 * container IP, trsvcid 4420): a peer on the same Docker network uses them as they are; the host maps the
 * trsvcid with {@link #hostEndpoint(String)}.
 */
public class SanportContainer extends GenericContainer<SanportContainer> {
    public static final DockerImageName DEFAULT_IMAGE = DockerImageName.parse("sanport:dev");
    /** NVMe/TCP's IANA port (trsvcid). */
    public static final int NVME_TCP_PORT = 4420;
    /** The NVMe-oF discovery service's port. */
    public static final int DISCOVERY_PORT = 8009;
    /** Where the image keeps its data ({@code SANPORT_HOME}); the built-in image is {@code /data/default.img}. */
    public static final String DATA_DIR = "/data";

    private String namespaceSize = "256M";
    private String device;
    private String dataVolume;
    private String subsystemNqn = "nqn.2026-11.io.sanport:testcontainers:" + UUID.randomUUID().toString().substring(0, 8);
    private final List<String> allowedHosts = new ArrayList<>();
    private Integer reactors;

    /** {@code sanport:dev}. */
    public SanportContainer() {
        this(DEFAULT_IMAGE);
    }

    public SanportContainer(String image) {
        this(DockerImageName.parse(image));
    }

    public SanportContainer(DockerImageName image) {
        super(image);
        withImagePullPolicy(name -> false); // built locally (docker/build.sh); there may be no registry at all
        withExposedPorts(NVME_TCP_PORT, DISCOVERY_PORT);
        withCreateContainerCmdModifier(SanportContainer::grantMemoryLock);
        waitingFor(new ServingWaitStrategy().withStartupTimeout(Duration.ofSeconds(60)));
    }

    private static void grantMemoryLock(CreateContainerCmd cmd) {
        HostConfig hc = cmd.getHostConfig() == null ? HostConfig.newHostConfig() : cmd.getHostConfig();
        List<Capability> caps = new ArrayList<>(hc.getCapAdd() == null ? List.of() : Arrays.asList(hc.getCapAdd()));
        if (!caps.contains(Capability.IPC_LOCK)) {
            caps.add(Capability.IPC_LOCK);
        }
        cmd.withHostConfig(hc.withCapAdd(caps.toArray(Capability[]::new)));
    }

    /** The RAM namespace's size ({@code 64M}, {@code 1G}, as {@code ram:SIZE} takes it); default 256M. */
    public SanportContainer withNamespaceSize(String size) {
        if (!size.matches("(?i)[0-9]+[kmgt]?")) {
            throw new IllegalArgumentException("namespace size " + size + ": a number with an optional K, M, G or T");
        }
        this.namespaceSize = size;
        this.device = null;
        return self();
    }

    /** Export this device instead of a RAM disk: a path inside the container (a file, or a device passed in). */
    public SanportContainer withDevice(String path) {
        this.device = path;
        return self();
    }

    /**
     * Mount the named Docker volume (created if missing) at {@value #DATA_DIR}; unless {@link #withDevice} names
     * another, the namespace is then sanport's built-in image, {@code /data/default.img} (1 GiB, sparse, created on
     * first start), so what a host writes survives this container and a new one on the same volume serves it.
     */
    public SanportContainer withDataVolume(String volumeName) {
        this.dataVolume = volumeName;
        withCreateContainerCmdModifier(cmd -> {
            HostConfig hc = cmd.getHostConfig() == null ? HostConfig.newHostConfig() : cmd.getHostConfig();
            List<Bind> binds = new ArrayList<>(hc.getBinds() == null ? List.of() : Arrays.asList(hc.getBinds()));
            binds.add(new Bind(volumeName, new Volume(DATA_DIR)));
            cmd.withHostConfig(hc.withBinds(binds));
        });
        return self();
    }

    /** Let only this host NQN connect (repeatable); without any, every host may. */
    public SanportContainer withAllowedHost(String hostNqn) {
        allowedHosts.add(hostNqn);
        return self();
    }

    /** The subsystem NQN (default: {@code nqn.2026-11.io.sanport:testcontainers:<random>}). */
    public SanportContainer withSubsystemNqn(String nqn) {
        this.subsystemNqn = nqn;
        return self();
    }

    /** Reactor threads (default: sanport's, one per core). */
    public SanportContainer withReactors(int n) {
        this.reactors = n;
        return self();
    }

    @Override
    protected void configure() {
        List<String> cmd = new ArrayList<>(List.of("export", "--address", "0.0.0.0",
                "--port", Integer.toString(NVME_TCP_PORT), "--discovery-port", Integer.toString(DISCOVERY_PORT),
                "--nqn", subsystemNqn));
        if (device != null) {
            cmd.addAll(List.of("--device", device));
        } else if (dataVolume == null) {
            cmd.addAll(List.of("--device", "ram:" + namespaceSize.toUpperCase(Locale.ROOT)));
        } // else: the built-in image under SANPORT_HOME=/data
        if (allowedHosts.isEmpty()) {
            cmd.add("--allow-any-host");
        } else {
            allowedHosts.forEach(h -> cmd.addAll(List.of("--allow-host", h)));
        }
        if (reactors != null) {
            cmd.addAll(List.of("--reactors", reactors.toString()));
        }
        setCommand(cmd.toArray(String[]::new));
    }

    /** The host the NVMe/TCP and discovery ports are reachable on from the test (Testcontainers' host). */
    public String getNvmeTcpAddress() {
        return getHost();
    }

    /** The host port mapped to the container's NVMe/TCP port 4420. */
    public int getNvmeTcpPort() {
        return getMappedPort(NVME_TCP_PORT);
    }

    /** The host port mapped to the container's discovery port 8009. */
    public int getDiscoveryPort() {
        return getMappedPort(DISCOVERY_PORT);
    }

    public String getSubsystemNqn() {
        return subsystemNqn;
    }

    /** The named volume mounted at /data, or null. */
    public String getDataVolume() {
        return dataVolume;
    }

    /**
     * Where the test reaches a port a discovery log entry of this container names: the entry's trsvcid (the
     * container's own port, 4420 or 8009) mapped to the host.
     */
    public InetSocketAddress hostEndpoint(String trsvcid) {
        return InetSocketAddress.createUnresolved(getHost(), getMappedPort(Integer.parseInt(trsvcid.trim())));
    }

    /** This container's IP address on its first network: what its discovery log reports as traddr. */
    public String getContainerIpAddress() {
        return getContainerInfo().getNetworkSettings().getNetworks().values().iterator().next().getIpAddress();
    }

    /**
     * Stop the container as {@code docker stop} does: SIGTERM, so sanport finishes or fails what is in flight,
     * flushes and closes every connection; SIGKILL after {@code timeout}. The stopped container stays until
     * {@link #stop()} removes it; its log ({@link #getLogs()}) stays readable.
     */
    public void stopGracefully(Duration timeout) {
        getDockerClient().stopContainerCmd(getContainerId()).withTimeout((int) Math.max(1, timeout.toSeconds())).exec();
    }

    /** Waits until {@code sanport export} says it is serving and both mapped ports accept connections. */
    static final class ServingWaitStrategy extends AbstractWaitStrategy {
        @Override
        protected void waitUntilReady() {
            LogMessageWaitStrategy log = Wait.forLogMessage(".*serving; stop with.*\\n", 1);
            log.withStartupTimeout(startupTimeout);
            log.waitUntilReady(waitStrategyTarget);
            long deadline = System.nanoTime() + startupTimeout.toNanos();
            for (int port : waitStrategyTarget.getExposedPorts()) {
                int mapped = waitStrategyTarget.getMappedPort(port);
                while (true) {
                    try (var s = new java.net.Socket()) {
                        s.connect(new InetSocketAddress(waitStrategyTarget.getHost(), mapped), 1000);
                        break;
                    } catch (java.io.IOException e) {
                        if (System.nanoTime() > deadline) {
                            throw new org.testcontainers.containers.ContainerLaunchException("sanport serves, but "
                                    + waitStrategyTarget.getHost() + ":" + mapped + " (container port " + port
                                    + ") does not accept connections: " + e.getMessage());
                        }
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException ie) {
                            Thread.currentThread().interrupt();
                            throw new org.testcontainers.containers.ContainerLaunchException("interrupted", ie);
                        }
                    }
                }
            }
        }
    }
}
