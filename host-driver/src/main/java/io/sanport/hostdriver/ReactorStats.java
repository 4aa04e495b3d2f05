package io.sanport.hostdriver;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One reactor's counters per namespace and per port, found on the I/O path by the slot the namespace or port got
 * from {@link TargetStats} when it was made: an array index, no map. The arrays grow (copied, then published with
 * a release store) the first time this reactor sees a slot past their end, so a namespace or port added while
 * the target runs costs one copy on its first command here, never a lookup per I/O. Written by the reactor
 * thread; a scrape reads them through {@link #namespaces()} / {@link #ports()}.
 */
final class ReactorStats {
    private static final VarHandle NAMESPACES;
    private static final VarHandle PORTS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            NAMESPACES = l.findVarHandle(ReactorStats.class, "namespaces", IoCounters[].class);
            PORTS = l.findVarHandle(ReactorStats.class, "ports", IoCounters[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private IoCounters[] namespaces = new IoCounters[4];
    private IoCounters[] ports = new IoCounters[4];
    /** Where what has no slot counts (a namespace or port made without one, as some tests do): never reported. */
    private final IoCounters unregistered = IoCounters.create();

    /** This reactor's counters of namespace slot {@code slot}. */
    IoCounters namespace(int slot) {
        IoCounters[] a = namespaces;
        if (slot >= 0 && slot < a.length) {
            IoCounters c = a[slot];
            if (c != null) {
                return c;
            }
        }
        return slot < 0 ? unregistered : grow(NAMESPACES, slot);
    }

    /** This reactor's counters of port slot {@code slot}. */
    IoCounters port(int slot) {
        IoCounters[] a = ports;
        if (slot >= 0 && slot < a.length) {
            IoCounters c = a[slot];
            if (c != null) {
                return c;
            }
        }
        return slot < 0 ? unregistered : grow(PORTS, slot);
    }

    /** Off the I/O path: once per slot and reactor. Synchronized only against a queue made on another thread. */
    private synchronized IoCounters grow(VarHandle field, int slot) {
        IoCounters[] a = (IoCounters[]) field.get(this);
        if (slot < a.length && a[slot] != null) {
            return a[slot];
        }
        IoCounters[] b = java.util.Arrays.copyOf(a, Math.max(a.length, Integer.highestOneBit(slot) << 1));
        IoCounters c = IoCounters.create();
        b[slot] = c;
        field.setRelease(this, b);
        return c;
    }

    /** The namespace counters as published now (a null entry: nothing counted for that slot on this reactor). */
    IoCounters[] namespaces() {
        return (IoCounters[]) NAMESPACES.getAcquire(this);
    }

    IoCounters[] ports() {
        return (IoCounters[]) PORTS.getAcquire(this);
    }
}
