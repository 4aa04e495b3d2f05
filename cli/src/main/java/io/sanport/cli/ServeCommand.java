package io.sanport.cli;

import io.sanport.iop.IoProcessor;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.hostdriver.control.ControlSocket;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sanport serve --config FILE}: the target, configured the way nvmetcli saves the kernel target's. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the NVMe-oF target from a JSON file in nvmetcli's format (ports, subsystems with "
                + "namespaces and allowed_hosts, hosts), as saved by 'nvmetcli save'.",
                "Also serves the discovery subsystem on port 8009 of each address unless --discovery-port 0.",
                "'sanport reload' or SIGHUP applies the edited file: only what differs changes."})
final class ServeCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The JSON configuration.")
    Path config;
    @Option(names = "--reactors", description = "Reactor threads (default: one per core).")
    Integer reactors;
    @Option(names = "--discovery-port", defaultValue = "8009", description = "Discovery service port, 0 for none (default: ${DEFAULT-VALUE}).")
    int discoveryPort;
    @Mixin
    LimitOptions limits = new LimitOptions();
    @Mixin
    MetricsOption metrics = new MetricsOption();
    @Mixin
    ServiceOptions service = new ServiceOptions();
    @Option(names = "--check", description = "Only check the file and print what it configures.")
    boolean check;

    @Override
    public Integer call() throws Exception {
        service.applyLogLevel();
        TargetConfig cfg = TargetConfig.load(config);
        if (check) {
            System.out.println(config + ": ok — " + cfg.ports().size() + " port(s), " + cfg.subsystems().size()
                    + " subsystem(s), " + cfg.hosts().size() + " host(s), devices " + cfg.devicePaths());
            return 0;
        }
        try (Target target = Target.open(cfg, reactors == null ? IoProcessor.defaultReactors() : reactors,
                limits.reactorConfig(), TargetOptions.DEFAULT.withDiscoveryPort(discoveryPort).withLimits(limits.limits()))) {
            TargetRunner.printPorts(target, System.out);
            MetricsEndpoint endpoint = metrics.start(target, System.out);
            ControlSocket control = service.open(target, config, System.err);
            service.reloadOnHangup(System.err);
            if (control != null) {
                System.out.println("control socket: " + control.path() + " ('sanport status"
                        + (control.path().equals(ControlSocket.DEFAULT_PATH) ? "" : " --control-socket " + control.path())
                        + "')");
            }
            return TargetRunner.runUntilSignalled(
                    ServiceOptions.both(control, MetricsOption.withTarget(endpoint, target)), System.out);
        }
    }
}
