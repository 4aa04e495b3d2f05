package io.sanport.hostdriver;

import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The target's I/O statistics: it gives each namespace and port a slot when it is made, and adds up the
 * reactors' counters ({@link ReactorStats}) when asked. Counting costs the I/O path a few plain stores on its own
 * reactor's arrays; a {@link #snapshot()} reads them racily (opaque loads), so its totals may trail the last
 * completions by a moment but never go back. The metrics endpoint reads one per scrape; a live rate (IOPS,
 * bytes per second, as {@code sanport status} would show) is the difference of two snapshots over the time between.
 *
 * <p>A namespace or port made while the target runs gets its slot from {@link #register} when it is made; a
 * removed namespace's slot (a removed port's, once its queues are gone) goes to the next one registered.
 */
public final class TargetStats {
    private final List<ReactorContext> reactors;
    private final List<NamespaceSlot> namespaces = new CopyOnWriteArrayList<>();
    private final List<PortSlot> ports = new CopyOnWriteArrayList<>();

    /** A slot and its owner now; {@code base}: the slot's totals when this owner took it (zero for a new slot). */
    private record NamespaceSlot(int slot, String subsystem, Namespace namespace, long[] base) { }

    private record PortSlot(int slot, Port port, long[] base) { }

    TargetStats(List<ReactorContext> reactors) {
        this.reactors = List.copyOf(reactors);
    }

    /**
     * Gives {@code ns} of subsystem {@code subnqn} its slot; call when it is made (also at run time; again is a
     * no-op). The slot of a removed namespace is reused (its series ended with it): the new one counts from that
     * slot's totals at reuse, which it subtracts, so the reactors' arrays are never written by another thread and
     * never grow past the most namespaces there were at once.
     */
    synchronized void register(String subnqn, Namespace ns) {
        if (ns.statsSlot >= 0) {
            return;
        }
        for (int i = 0; i < namespaces.size(); i++) {
            NamespaceSlot old = namespaces.get(i);
            if (old.namespace.removed()) {
                ns.statsSlot = old.slot;
                namespaces.set(i, new NamespaceSlot(old.slot, subnqn, ns, sum(old.slot, true)));
                return;
            }
        }
        int slot = namespaces.size();
        ns.statsSlot = slot;
        namespaces.add(new NamespaceSlot(slot, subnqn, ns, new long[IoCounters.SIZE]));
    }

    /**
     * Gives port {@code p} its slot. A removed port's slot is reused once none of its queue pairs is left (none
     * can count into it any more; a queue made later on the removed port counts nowhere, see QueuePair's
     * openedOn): the new port subtracts that slot's totals at reuse, as a namespace does.
     */
    synchronized void register(Port p) {
        if (p.statsSlot >= 0) {
            return;
        }
        for (int i = 0; i < ports.size(); i++) {
            PortSlot old = ports.get(i);
            if (!old.port.removed()) {
                continue;
            }
            // Pairs with QueuePair.openedOn (count opened, fence, read removed()): with a full fence on each side,
            // either that queue sees the removal and counts nowhere, or this sum sees it opened. The JMM lets the
            // sum's opaque loads move above the volatile removed() load; without this fence only HotSpot's fence
            // after remove()'s volatile store kept them apart.
            VarHandle.fullFence();
            long[] sum = sum(old.slot, false);
            long[] base = old.base;
            if (sum[IoCounters.QUEUES_OPENED] - base[IoCounters.QUEUES_OPENED]
                    == sum[IoCounters.QUEUES_CLOSED] - base[IoCounters.QUEUES_CLOSED]) {
                p.statsSlot = old.slot;
                ports.set(i, new PortSlot(old.slot, p, sum));
                return;
            }
        }
        int slot = ports.size();
        p.statsSlot = slot;
        ports.add(new PortSlot(slot, p, new long[IoCounters.SIZE]));
    }

    /** Latency histogram bucket upper bounds in seconds, the last +Inf: 16 us, 32 us, ... about 1 s. */
    public static double[] latencyBoundsSeconds() {
        double[] b = new double[IoCounters.BUCKETS];
        for (int i = 0; i < b.length; i++) {
            b[i] = IoCounters.boundSeconds(i);
        }
        return b;
    }

    /** A latency histogram: per-bucket counts (not cumulative; bounds in {@link #latencyBoundsSeconds()}), their sum. */
    public record Histogram(long[] buckets, long sumNanos) {
        public long count() {
            return Arrays.stream(buckets).sum();
        }
    }

    /**
     * Successful reads and writes with their bytes and latency (from the command's arrival to its completion being
     * handed to the transport), and failed I/O commands by NVMe status code type.
     */
    public record IoTotals(long reads, long writes, long bytesRead, long bytesWritten, long[] errorsByStatusType,
                           Histogram readLatency, Histogram writeLatency) {
        public long errors() {
            return Arrays.stream(errorsByStatusType).sum();
        }
    }

    public record NamespaceTotals(String subsystem, int nsid, String device, IoTotals io) { }

    /**
     * A port's queue pairs (connections on TCP) opened and closed, commands outstanding now, the I/O through it,
     * queue pairs ended by {@link DisconnectReason} (by ordinal) and C2HTermReqs sent by FES (by value).
     */
    public record PortTotals(int portId, String transport, String address, int port, long queuesOpened,
                             long queuesClosed, long outstanding, IoTotals io, long[] disconnects, long[] termReqs) {
        public long connections() {
            return queuesOpened - queuesClosed;
        }
    }

    /**
     * A reactor thread: nanoseconds not spent asleep in io_uring_enter since it started (the kernel's work inside
     * that call, inline sends and completions, counts as asleep), the CPU time the kernel charged the thread (user +
     * system, that work included; -1 where the JVM cannot tell), its pool's buffers in use and in all, requests that
     * ever waited for a buffer and that wait now.
     */
    public record ReactorTotals(String name, long busyNanos, long cpuNanos, int buffersInUse, int buffers,
                                long bufferWaits, int parked) { }

    public record Snapshot(List<NamespaceTotals> namespaces, List<PortTotals> ports, List<ReactorTotals> reactors) { }

    /** The totals over all reactors now. Any thread; allocates (it is not on the I/O path). */
    public Snapshot snapshot() {
        List<NamespaceTotals> ns = new ArrayList<>();
        for (NamespaceSlot s : namespaces) {
            if (s.namespace.removed()) {
                continue; // its series end with it, as a removed nvmet namespace's configfs entry does
            }
            long[] sum = minus(sum(s.slot, true), s.base);
            ns.add(new NamespaceTotals(s.subsystem, s.namespace.nsid(), s.namespace.device().name(), io(sum)));
        }
        List<PortTotals> ps = new ArrayList<>();
        for (PortSlot s : ports) {
            long[] sum = minus(sum(s.slot, false), s.base);
            Port p = s.port;
            ps.add(new PortTotals(p.portId(), p.transport().type(), p.traddr(), p.boundPort(),
                    sum[IoCounters.QUEUES_OPENED], sum[IoCounters.QUEUES_CLOSED], sum[IoCounters.OUTSTANDING], io(sum),
                    Arrays.copyOfRange(sum, IoCounters.DISCONNECTS, IoCounters.DISCONNECTS + DisconnectReason.values().length),
                    Arrays.copyOfRange(sum, IoCounters.TERM_REQS, IoCounters.TERM_REQS + 8)));
        }
        List<ReactorTotals> rs = new ArrayList<>();
        for (ReactorContext c : reactors) {
            var pool = c.pool();
            int buffers = pool.capacity();
            rs.add(new ReactorTotals(c.reactor.name(), c.reactor.busyNanos(), cpuNanos(c.reactor.thread()),
                    buffers - pool.available(), buffers, c.waitsOpaque(), c.parkedOpaque()));
        }
        return new Snapshot(List.copyOf(ns), List.copyOf(ps), List.copyOf(rs));
    }

    /** The thread's CPU time from the kernel (clock_gettime of its CPU clock): read here, never on the I/O path. */
    private static long cpuNanos(Thread t) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        return threads.isThreadCpuTimeSupported() && threads.isThreadCpuTimeEnabled()
                ? threads.getThreadCpuTime(t.threadId()) : -1;
    }

    private long[] sum(int slot, boolean namespace) {
        long[] sum = new long[IoCounters.SIZE];
        for (ReactorContext c : reactors) {
            IoCounters[] a = namespace ? c.stats.namespaces() : c.stats.ports();
            if (slot < a.length && a[slot] != null) {
                a[slot].addTo(sum);
            }
        }
        return sum;
    }

    private static long[] minus(long[] sum, long[] base) {
        for (int i = 0; i < sum.length; i++) {
            sum[i] -= base[i];
        }
        return sum;
    }

    private static IoTotals io(long[] s) {
        return new IoTotals(s[IoCounters.READS], s[IoCounters.WRITES], s[IoCounters.BYTES_READ],
                s[IoCounters.BYTES_WRITTEN], Arrays.copyOfRange(s, IoCounters.ERRORS, IoCounters.ERRORS + 8),
                new Histogram(Arrays.copyOfRange(s, IoCounters.READ_LATENCY, IoCounters.READ_LATENCY + IoCounters.BUCKETS),
                        s[IoCounters.READ_NANOS]),
                new Histogram(Arrays.copyOfRange(s, IoCounters.WRITE_LATENCY, IoCounters.WRITE_LATENCY + IoCounters.BUCKETS),
                        s[IoCounters.WRITE_NANOS]));
    }
}
