package io.sanport.cli;

import io.sanport.iop.IoProcessor;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.auth.DhGroup;
import io.sanport.nvme.auth.DhchapHash;
import io.sanport.nvme.auth.DhchapKey;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.hostdriver.control.ControlSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sanport export}: the quick form for one device, no file needed. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export one device as namespace 1 of a subsystem over NVMe-oF, in the foreground.",
                "With no --device, the built-in default image."})
final class ExportCommand implements Callable<Integer> {
    @Option(names = {"-d", "--device"}, paramLabel = "PATH", description = "Block device, image file or ram:SIZE (default: the built-in image).")
    String device;
    @Option(names = {"-t", "--transport"}, defaultValue = "tcp", description = "tcp or rdma (default: ${DEFAULT-VALUE}).")
    String transport;
    @Option(names = {"-a", "--address"}, defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String address;
    @Option(names = {"-s", "--port"}, defaultValue = "4420", description = "Port, trsvcid (default: ${DEFAULT-VALUE}).")
    int port;
    @Option(names = {"-n", "--nqn"}, description = "Subsystem NQN (default: nqn.2026-11.io.sanport:<host>:<device>).")
    String nqn;
    @Option(names = "--allow-host", paramLabel = "NQN", description = "A host NQN allowed to connect (repeatable).")
    List<String> allowHosts = List.of();
    @Option(names = "--dhchap-key", paramLabel = "DHHC-1:..|@FILE", description = {
            "The allowed hosts' DH-HMAC-CHAP secret (from 'nvme gen-dhchap-key'); the subsystem then requires",
            "authentication. @FILE reads it from a file (keeps it out of 'ps')."})
    String dhchapKey;
    @Option(names = "--dhchap-ctrl-key", paramLabel = "DHHC-1:..|@FILE", description = "The controller's secret, for hosts that authenticate it too (bidirectional).")
    String dhchapCtrlKey;
    @Option(names = "--dhchap-hash", paramLabel = "HASH", description = "Preferred hash: hmac(sha256) (default), hmac(sha384), hmac(sha512).")
    String dhchapHash;
    @Option(names = "--dhchap-dhgroup", paramLabel = "GROUP", description = "Preferred DH group: null (default), ffdhe2048 .. ffdhe8192.")
    String dhchapDhgroup;
    @Option(names = "--tls", description = "Require NVMe/TCP over TLS 1.3 with a pre-shared key (needs --tls-key).")
    boolean tls;
    @Option(names = "--tls-key", paramLabel = "NVMeTLSkey-1:..|@FILE", description = {
            "The allowed hosts' configured TLS PSK (from 'nvme gen-tls-key'), implies --tls; @FILE reads it",
            "from a file."})
    String tlsKey;
    @Option(names = "--tls-key-derivation", paramLabel = "compat|rfc8446", description = {
            "How the TLS PSK is derived from --tls-key; must match the hosts: compat (default) as nvme-cli",
            "before 2.16 and 'nvme gen-tls-key --compat' do, rfc8446 as nvme-cli 2.16 and later do by default."})
    String tlsKeyDerivation;
    @Option(names = "--allow-any-host", description = "Let any host connect (the default on a loopback address only).")
    boolean allowAnyHost;
    @Option(names = "--reactors", description = "Reactor threads (default: one per core).")
    Integer reactors;
    @Option(names = "--discovery-port", defaultValue = "8009", description = "Discovery service port, 0 for none (default: ${DEFAULT-VALUE}).")
    int discoveryPort;
    @Option(names = "--shared-device", description = {"Open the device without exclusive access, so that a second",
            "sanport process can export it as another path to the same subsystem (same --nqn; give each",
            "process its own --cntlid-min/--cntlid-max)."})
    boolean sharedDevice;
    @Option(names = "--buffered", description = {"Read and write the device through the page cache instead of O_DIRECT",
            "(nvmet's buffered_io; Flush still makes the data durable)."})
    boolean buffered;
    @Option(names = "--cntlid-min", paramLabel = "N", description = "Lowest controller ID handed out (default: 1).")
    Integer cntlidMin;
    @Option(names = "--cntlid-max", paramLabel = "N", description = "Highest controller ID handed out (default: 65519).")
    Integer cntlidMax;
    @Mixin
    LimitOptions limits = new LimitOptions();
    @Mixin
    MetricsOption metrics = new MetricsOption();
    @Mixin
    ServiceOptions service = new ServiceOptions();

    /** The TLS PSK the options give, null without --tls-key; never quotes it. */
    private io.sanport.nvme.tls.TlsKey tlsKey() throws java.io.IOException {
        String key = RemoteOptions.tlsKey(tls, tlsKey);
        io.sanport.nvme.tls.TlsKey.Derivation derivation = RemoteOptions.derivation(key, tlsKeyDerivation);
        if (key == null) {
            return null;
        }
        if (!transport.equals("tcp")) {
            throw new IllegalArgumentException("--tls is an NVMe/TCP option, not for " + transport);
        }
        if (allowHosts.isEmpty()) {
            throw new IllegalArgumentException("--tls-key needs the hosts it belongs to: --allow-host NQN");
        }
        try {
            return io.sanport.nvme.tls.TlsKey.parse(key).withDerivation(derivation);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-key: " + e.getMessage());
        }
    }

    /** The DH-HMAC-CHAP settings the options give, null without --dhchap-key; never quotes a secret. */
    private TargetConfig.DhchapConfig dhchap() throws java.io.IOException {
        String key = RemoteOptions.secret(dhchapKey, "--dhchap-key");
        String ctrl = RemoteOptions.secret(dhchapCtrlKey, "--dhchap-ctrl-key");
        if (key == null) {
            if (ctrl != null || dhchapHash != null || dhchapDhgroup != null) {
                throw new IllegalArgumentException("--dhchap-ctrl-key, --dhchap-hash and --dhchap-dhgroup need --dhchap-key");
            }
            return null;
        }
        if (allowHosts.isEmpty()) {
            throw new IllegalArgumentException("--dhchap-key needs the hosts it belongs to: --allow-host NQN");
        }
        DhchapHash hash = dhchapHash == null ? null : DhchapHash.parse(dhchapHash);
        if (dhchapHash != null && hash == null) {
            throw new IllegalArgumentException("--dhchap-hash: hmac(sha256), hmac(sha384) or hmac(sha512), not " + dhchapHash);
        }
        DhGroup group = dhchapDhgroup == null ? null : DhGroup.parse(dhchapDhgroup);
        if (dhchapDhgroup != null && group == null) {
            throw new IllegalArgumentException("--dhchap-dhgroup: null or ffdhe2048..ffdhe8192, not " + dhchapDhgroup);
        }
        try {
            return new TargetConfig.DhchapConfig(DhchapKey.parse(key), ctrl == null ? null : DhchapKey.parse(ctrl), hash, group);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--dhchap-key/--dhchap-ctrl-key: " + e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        service.applyLogLevel();
        if (!allowHosts.isEmpty() && allowAnyHost) {
            throw new IllegalArgumentException("give --allow-host or --allow-any-host, not both");
        }
        if (allowHosts.isEmpty() && !allowAnyHost && !InetAddress.getByName(address).isLoopbackAddress()) {
            throw new IllegalArgumentException("exporting on " + address + " to every host of the network needs "
                    + "--allow-any-host; or name who may connect with --allow-host NQN (see 'nvme show-hostnqn' on the peer)");
        }
        if (transport.equals("rdma")) {
            io.sanport.transport.rdma.RdmaDevices.require();
        }
        String path = device;
        if (path == null) {
            path = DefaultImage.path().toString();
            DeviceOption.createDefaultIfMissing(System.out);
        }
        String subnqn = nqn != null ? nqn : defaultNqn(path);
        Nqn.validate(subnqn);
        TargetConfig cfg = withPaths(TargetConfig.forDevice(path, subnqn, transport, address, port, allowHosts, dhchap(),
                tlsKey()), sharedDevice, buffered, cntlidMin, cntlidMax);
        Target opened;
        try {
            opened = Target.open(cfg, reactors == null ? IoProcessor.defaultReactors() : reactors,
                    limits.reactorConfig(), TargetOptions.DEFAULT.withDiscoveryPort(discoveryPort).withLimits(limits.limits()));
        } catch (io.sanport.hostdriver.ConfigException e) {
            if (e.path() != null && e.path().endsWith(".device.buffered_io")) {
                throw new IllegalArgumentException("--buffered: " + e.problem()); // an NVMe passthrough device
            }
            throw e;
        }
        try (Target target = opened) {
            System.out.println("exporting " + path + " as namespace 1 of " + subnqn
                    + (allowHosts.isEmpty() ? " (any host may connect)" : " to " + allowHosts)
                    + (dhchapKey != null ? " with DH-HMAC-CHAP" + (dhchapCtrlKey != null ? " (bidirectional)" : "") : ""));
            TargetRunner.printPorts(target, System.out);
            MetricsEndpoint endpoint = metrics.start(target, System.out);
            ControlSocket control = service.open(target, System.err);
            if (control != null) {
                System.out.println("control socket: " + control.path() + " ('sanport status"
                        + (control.path().equals(ControlSocket.DEFAULT_PATH) ? "" : " --control-socket " + control.path())
                        + "')");
            }
            return TargetRunner.runUntilSignalled(
                    ServiceOptions.both(control, MetricsOption.withTarget(endpoint, target)), System.out);
        }
    }

    /** {@code cfg}'s one subsystem with a shared or buffered device and a controller ID range, as the options say. */
    static TargetConfig withPaths(TargetConfig cfg, boolean shared, boolean buffered, Integer min, Integer max)
            throws io.sanport.hostdriver.ConfigException {
        TargetConfig.SubsystemConfig sc = cfg.subsystems().getFirst();
        int lo = min != null ? min : io.sanport.hostdriver.Subsystem.CNTLID_MIN;
        int hi = max != null ? max : io.sanport.hostdriver.Subsystem.CNTLID_MAX;
        if (lo < io.sanport.hostdriver.Subsystem.CNTLID_MIN || hi > io.sanport.hostdriver.Subsystem.CNTLID_MAX || lo > hi) {
            throw new IllegalArgumentException("--cntlid-min " + lo + " --cntlid-max " + hi + ": give "
                    + io.sanport.hostdriver.Subsystem.CNTLID_MIN + " <= min <= max <= " + io.sanport.hostdriver.Subsystem.CNTLID_MAX);
        }
        if (buffered && sc.namespaces().stream().anyMatch(n -> n.path().startsWith("ram:"))) {
            throw new IllegalArgumentException("--buffered: a ram: device is memory, which has no page cache to go"
                    + " through or around");
        }
        sc = sc.withCntlids(lo, hi).withNamespaces(sc.namespaces().stream().map(n -> n.withShared(shared).withBufferedIo(buffered)).toList());
        return cfg.withSubsystem(sc);
    }

    static String defaultNqn(String path) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        String dev = Path.of(path).getFileName().toString();
        return ("nqn.2026-11.io.sanport:" + host + ":" + dev).replaceAll("[^A-Za-z0-9.:_-]", "-");
    }
}
