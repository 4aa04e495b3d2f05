package io.sanport.cli;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import io.sanport.hostdriver.DisconnectReason;
import io.sanport.hostdriver.TargetStats;
import io.sanport.hostdriver.TargetStats.Histogram;
import io.sanport.hostdriver.TargetStats.IoTotals;
import io.sanport.hostdriver.TargetStats.NamespaceTotals;
import io.sanport.hostdriver.TargetStats.PortTotals;
import io.sanport.hostdriver.TargetStats.ReactorTotals;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The target's statistics as Prometheus metric families, built at each scrape from one {@link TargetStats}
 * snapshot (the reactors' counters added up then): nothing is registered per I/O. Names and labels are listed in
 * the README's Metrics section.
 */
final class TargetCollector implements MultiCollector {
    /** NVMe status code types (SCT) by value; 4..6 are reserved and shown only when counted. */
    private static final String[] STATUS_TYPES = {"generic", "command_specific", "media", "path", "reserved_4",
            "reserved_5", "reserved_6", "vendor"};
    /** NVMe/TCP C2HTermReq fatal error status (FES) by value. */
    private static final String[] FES = {"reserved_0", "invalid_header_field", "pdu_sequence_error",
            "header_digest_error", "data_out_of_range", "data_limit_exceeded", "unsupported_parameter", "reserved_7"};
    private static final double[] BOUNDS = TargetStats.latencyBoundsSeconds();

    private final TargetStats stats;

    TargetCollector(TargetStats stats) {
        this.stats = stats;
    }

    @Override
    public MetricSnapshots collect() {
        TargetStats.Snapshot s = stats.snapshot();
        List<MetricSnapshot> out = new ArrayList<>();
        io(out, "namespace", s.namespaces(), n -> Labels.of("subsystem", n.subsystem(), "nsid",
                Integer.toUnsignedString(n.nsid())), NamespaceTotals::io, true);
        io(out, "port", s.ports(), TargetCollector::portLabels, PortTotals::io, false);
        ports(out, s.ports());
        reactors(out, s.reactors());
        return new MetricSnapshots(out);
    }

    private static Labels portLabels(PortTotals p) {
        return Labels.of("port_id", Integer.toString(p.portId()), "transport", p.transport(), "address", p.address(),
                "port", Integer.toString(p.port()));
    }

    /** Reads, writes, bytes, errors by status type and (namespaces) latency histograms of {@code items}. */
    private static <T> void io(List<MetricSnapshot> out, String what, List<T> items,
                               java.util.function.Function<T, Labels> labels,
                               java.util.function.Function<T, IoTotals> io, boolean histograms) {
        String p = "sanport_" + what + "_";
        out.add(counter(p + "reads", "Successful read commands.", null, items, labels, t -> io.apply(t).reads()));
        out.add(counter(p + "writes", "Successful write commands.", null, items, labels, t -> io.apply(t).writes()));
        out.add(counter(p + "read_bytes", "Bytes read by successful read commands.", Unit.BYTES, items, labels,
                t -> io.apply(t).bytesRead()));
        out.add(counter(p + "written_bytes", "Bytes written by successful write commands.", Unit.BYTES, items, labels,
                t -> io.apply(t).bytesWritten()));
        CounterSnapshot.Builder errors = CounterSnapshot.builder().name(p + "errors")
                .help("I/O commands completed with an error, by NVMe status code type.");
        for (T t : items) {
            long[] byType = io.apply(t).errorsByStatusType();
            for (int sct = 0; sct < byType.length; sct++) {
                if (byType[sct] > 0 || sct <= 3 || sct == 7) {
                    errors.dataPoint(CounterDataPointSnapshot.builder().value(byType[sct])
                            .labels(labels.apply(t).add("status_type", STATUS_TYPES[sct])).build());
                }
            }
        }
        out.add(errors.build());
        if (histograms) {
            out.add(histogram(p + "read_latency_seconds", "Read latency: from the command's arrival to its completion"
                    + " being handed to the transport.", items, labels, t -> io.apply(t).readLatency()));
            out.add(histogram(p + "write_latency_seconds", "Write latency: from the command's arrival (before its"
                    + " data) to its completion being handed to the transport.", items, labels,
                    t -> io.apply(t).writeLatency()));
        }
    }

    private static void ports(List<MetricSnapshot> out, List<PortTotals> ports) {
        out.add(gauge("sanport_port_connections", "Queue pairs open now (NVMe/TCP: connections).", ports,
                TargetCollector::portLabels, PortTotals::connections));
        out.add(counter("sanport_port_connections_opened", "Queue pairs ever opened.", null, ports,
                TargetCollector::portLabels, PortTotals::queuesOpened));
        out.add(gauge("sanport_port_outstanding_commands", "Commands received and not yet completed: the queue depth"
                + " the hosts keep.", ports, TargetCollector::portLabels, PortTotals::outstanding));
        CounterSnapshot.Builder disconnects = CounterSnapshot.builder().name("sanport_port_disconnects")
                .help("Queue pairs ended, by reason.");
        CounterSnapshot.Builder termReqs = CounterSnapshot.builder().name("sanport_port_term_reqs")
                .help("NVMe/TCP C2HTermReqs sent (the connection then ends), by fatal error status.");
        for (PortTotals p : ports) {
            for (DisconnectReason r : DisconnectReason.values()) {
                disconnects.dataPoint(CounterDataPointSnapshot.builder().value(p.disconnects()[r.ordinal()])
                        .labels(portLabels(p).add("reason", r.label())).build());
            }
            if (p.transport().equals("tcp")) {
                for (int fes = 1; fes <= 6; fes++) {
                    termReqs.dataPoint(CounterDataPointSnapshot.builder().value(p.termReqs()[fes])
                            .labels(portLabels(p).add("fes", FES[fes])).build());
                }
            }
        }
        out.add(disconnects.build());
        out.add(termReqs.build());
    }

    private static void reactors(List<MetricSnapshot> out, List<ReactorTotals> reactors) {
        java.util.function.Function<ReactorTotals, Labels> l = r -> Labels.of("reactor", r.name());
        out.add(counter("sanport_reactor_busy_seconds", "Time the reactor thread was not asleep in io_uring_enter"
                + " waiting for work (the kernel's work inside that call counts as asleep).", Unit.SECONDS, reactors, l,
                r -> r.busyNanos() / 1e9));
        List<ReactorTotals> timed = reactors.stream().filter(r -> r.cpuNanos() >= 0).toList();
        out.add(counter("sanport_reactor_cpu_seconds", "CPU time the kernel charged the reactor thread, user and"
                + " system (io_uring's inline work included).", Unit.SECONDS, timed, l, r -> r.cpuNanos() / 1e9));
        out.add(gauge("sanport_reactor_buffers_in_use", "Buffers of the reactor's registered pool taken now.", reactors,
                l, ReactorTotals::buffersInUse));
        out.add(gauge("sanport_reactor_buffers", "Buffers in the reactor's registered pool.", reactors, l,
                ReactorTotals::buffers));
        out.add(counter("sanport_reactor_buffer_waits", "Requests that had to wait for a pool buffer or their"
                + " host's share of it.", null, reactors, l, ReactorTotals::bufferWaits));
        out.add(gauge("sanport_reactor_parked_requests", "Requests waiting for a pool buffer now.", reactors, l,
                ReactorTotals::parked));
    }

    private static <T> CounterSnapshot counter(String name, String help, Unit unit, List<T> items,
                                               java.util.function.Function<T, Labels> labels, ToDoubleFunction<T> value) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        if (unit != null) {
            b.unit(unit);
        }
        for (T t : items) {
            b.dataPoint(CounterDataPointSnapshot.builder().value(value.applyAsDouble(t)).labels(labels.apply(t)).build());
        }
        return b.build();
    }

    private static <T> GaugeSnapshot gauge(String name, String help, List<T> items,
                                           java.util.function.Function<T, Labels> labels, ToDoubleFunction<T> value) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        for (T t : items) {
            b.dataPoint(GaugeDataPointSnapshot.builder().value(value.applyAsDouble(t)).labels(labels.apply(t)).build());
        }
        return b.build();
    }

    private static <T> HistogramSnapshot histogram(String name, String help, List<T> items,
                                                   java.util.function.Function<T, Labels> labels,
                                                   java.util.function.Function<T, Histogram> value) {
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(name).help(help).unit(Unit.SECONDS);
        for (T t : items) {
            Histogram h = value.apply(t);
            b.dataPoint(HistogramDataPointSnapshot.builder()
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(BOUNDS, h.buckets()))
                    .sum(h.sumNanos() / 1e9).labels(labels.apply(t)).build());
        }
        return b.build();
    }
}
