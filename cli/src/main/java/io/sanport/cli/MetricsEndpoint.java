package io.sanport.cli;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sanport.hostdriver.Target;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The Prometheus endpoint of one target: the Prometheus Java client's HTTP server on its own registry, with the
 * target's statistics ({@link TargetCollector}, read at each scrape) and the JVM's. Two daemon threads answer
 * scrapes; nothing of it runs on a reactor.
 */
final class MetricsEndpoint implements AutoCloseable {
    private final HTTPServer server;
    private final ExecutorService executor;

    private MetricsEndpoint(HTTPServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static MetricsEndpoint start(Target target, String host, int port) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new TargetCollector(target.stats()));
        JvmMetrics.builder().register(registry);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "sanport-metrics");
            t.setDaemon(true);
            return t;
        });
        try {
            HTTPServer server = HTTPServer.builder().hostname(host).port(port).registry(registry)
                    .executorService(executor).buildAndStart();
            return new MetricsEndpoint(server, executor);
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            throw new IOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** The port bound (the one the kernel chose for 0). */
    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
        executor.shutdownNow();
    }
}
