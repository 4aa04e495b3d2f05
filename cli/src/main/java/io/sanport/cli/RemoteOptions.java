package io.sanport.cli;

import io.sanport.client.ConnectOptions;
import io.sanport.nvme.Nqn;
import io.sanport.nvme.tls.TlsKey;
import io.sanport.transport.rdma.RdmaDevices;
import java.io.IOException;
import java.util.UUID;
import picocli.CommandLine.Option;

/** Where an NVMe-oF controller is and how to connect to it: the options nvme-cli's connect takes. */
final class RemoteOptions {
    @Option(names = {"-t", "--transport"}, defaultValue = "tcp", description = "tcp or rdma (default: ${DEFAULT-VALUE}). NVMe/RDMA discovery is on the I/O port: -s 4420.")
    String transport;
    @Option(names = {"-a", "--address"}, required = true, description = "The target's address (traddr).")
    String address;
    @Option(names = {"-q", "--host-nqn"}, description = "This host's NQN (default: a fresh UUID-based NQN).")
    String hostNqn;
    @Option(names = "--queues", description = "I/O queues to open (default: one per core).")
    Integer queues;
    @Option(names = "--queue-size", defaultValue = "128", description = "Entries per I/O queue (default: ${DEFAULT-VALUE}).")
    int queueSize;
    @Option(names = "--hdr-digest", description = "Ask for NVMe/TCP header digests (CRC32C).")
    boolean headerDigest;
    @Option(names = "--data-digest", description = "Ask for NVMe/TCP data digests (CRC32C).")
    boolean dataDigest;
    @Option(names = {"-S", "--dhchap-secret"}, paramLabel = "DHHC-1:..|@FILE", description = {
            "This host's DH-HMAC-CHAP secret (from 'nvme gen-dhchap-key'), used when the controller asks for",
            "authentication; @FILE reads it from a file (keeps it out of 'ps')."})
    String dhchapSecret;
    @Option(names = {"-C", "--dhchap-ctrl-secret"}, paramLabel = "DHHC-1:..|@FILE", description = {
            "The controller's DH-HMAC-CHAP secret: also authenticate the controller (bidirectional); @FILE as above."})
    String dhchapCtrlSecret;
    @Option(names = "--tls", description = "NVMe/TCP over TLS 1.3 with a pre-shared key (needs --tls-key).")
    boolean tls;
    @Option(names = "--tls-key", paramLabel = "NVMeTLSkey-1:..|@FILE", description = {
            "This host's configured TLS PSK (from 'nvme gen-tls-key'), implies --tls; @FILE reads it from a file."})
    String tlsKey;
    @Option(names = "--tls-key-derivation", paramLabel = "compat|rfc8446", description = {
            "How the TLS PSK is derived from --tls-key; must match the target: compat (default) as nvme-cli",
            "before 2.16 and 'nvme gen-tls-key --compat' do, rfc8446 as nvme-cli 2.16 and later do by default."})
    String tlsKeyDerivation;

    ConnectOptions connectOptions() throws IOException {
        ConnectOptions.Transport t = ConnectOptions.Transport.of(transport);
        if (t == ConnectOptions.Transport.RDMA) {
            RdmaDevices.require();
            if (headerDigest || dataDigest) {
                throw new IllegalArgumentException("--hdr-digest and --data-digest are NVMe/TCP options, not for rdma");
            }
        }
        ConnectOptions o = ConnectOptions.defaults();
        UUID id = o.hostId();
        String nqn = hostNqn == null ? o.hostNqn() : hostNqn;
        Nqn.validate(nqn);
        return new ConnectOptions(queues == null ? o.ioQueues() : queues, queueSize, o.katoMillis(), headerDigest,
                dataDigest, nqn, id, o.timeoutMillis()).withTransport(t)
                .withDhchap(secret(dhchapSecret, "--dhchap-secret"), secret(dhchapCtrlSecret, "--dhchap-ctrl-secret"))
                .withTls(tlsKey(tls, tlsKey), derivation(tlsKey, tlsKeyDerivation));
    }

    /** --tls-key-derivation's value (COMPAT when absent); given without --tls-key it is refused. */
    static TlsKey.Derivation derivation(String key, String derivation) {
        if (derivation == null) {
            return TlsKey.Derivation.COMPAT;
        }
        if (key == null) {
            throw new IllegalArgumentException("--tls-key-derivation needs --tls-key");
        }
        try {
            return TlsKey.Derivation.of(derivation);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-key-derivation: " + e.getMessage());
        }
    }

    /** The TLS PSK the options give (null: no TLS); --tls alone is refused: there is no keyring to look in. */
    static String tlsKey(boolean tls, String key) throws IOException {
        if (tls && key == null) {
            throw new IllegalArgumentException("--tls needs the configured PSK: --tls-key NVMeTLSkey-1:..|@FILE");
        }
        return secret(key, "--tls-key");
    }

    /** A secret given inline or as @FILE (its first line); the value never appears in an error. */
    static String secret(String value, String option) throws IOException {
        if (value == null || !value.startsWith("@")) {
            return value;
        }
        java.nio.file.Path file = java.nio.file.Path.of(value.substring(1));
        try {
            return java.nio.file.Files.readAllLines(file).stream().findFirst().orElse("").strip();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(option + ": no such file " + file);
        }
    }
}
