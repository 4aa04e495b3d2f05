package io.sanport.cli;

import io.sanport.hostdriver.Target;
import java.io.IOException;
import java.io.PrintStream;
import picocli.CommandLine.Option;

/** {@code --metrics ADDRESS:PORT} on serve and export: the Prometheus endpoint, off unless given. */
final class MetricsOption {
    @Option(names = "--metrics", paramLabel = "ADDRESS:PORT",
            description = "Serve Prometheus metrics on http://ADDRESS:PORT/metrics (port 0: any free one). No "
                    + "authentication: bind it to a loopback or management address. Default: off.")
    String metrics;

    /** Starts the endpoint for {@code target} when asked for, saying where; null when off. */
    MetricsEndpoint start(Target target, PrintStream out) throws IOException {
        if (metrics == null) {
            return null;
        }
        int colon = metrics.lastIndexOf(':');
        if (colon <= 0 || colon == metrics.length() - 1) {
            throw new IllegalArgumentException("--metrics " + metrics + ": expected ADDRESS:PORT, e.g. 127.0.0.1:9465");
        }
        String host = metrics.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1); // [::1]:9465
        }
        int port;
        try {
            port = Integer.parseInt(metrics.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--metrics " + metrics + ": the port must be 0..65535");
        }
        MetricsEndpoint m = MetricsEndpoint.start(target, host, port);
        out.println("metrics: http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + m.port() + "/metrics");
        return m;
    }

    /** What the runner closes: the endpoint first (no scrape of a closing target), then the target. */
    static AutoCloseable withTarget(MetricsEndpoint m, Target target) {
        return m == null ? target : () -> {
            m.close();
            target.close();
        };
    }
}
