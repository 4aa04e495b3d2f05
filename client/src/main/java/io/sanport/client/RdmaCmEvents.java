package io.sanport.client;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.rdmacm.RdmaCmEvent;
import io.sanport.bindings.rdmacm.Rdmacm;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * One RDMA CM event channel for every host queue of the process, and one daemon thread that reads it: each event
 * is copied ({@link Event}), acknowledged at once (so {@code rdma_destroy_id} never waits on us) and handed to the
 * id's listener. Connects thereby get timeouts (a blocking {@code rdma_get_cm_event} has none) and queues learn
 * of DISCONNECTED without a thread each.
 */
final class RdmaCmEvents {
    /** A copied CM event: type ({@code RDMA_CM_EVENT_*}), status, and the private data bytes if any. */
    record Event(int type, int status, byte[] privateData) {
        String name() {
            return Rdmacm.eventName(type);
        }
    }

    private static RdmaCmEvents instance;

    private final MemorySegment channel;
    private final Map<Long, Consumer<Event>> listeners = new ConcurrentHashMap<>();

    private RdmaCmEvents(MemorySegment channel) {
        this.channel = channel;
        Thread.ofPlatform().daemon().name("nvme-rdma-cm").start(this::run);
    }

    static synchronized RdmaCmEvents get() throws ErrnoException {
        if (instance == null) {
            instance = new RdmaCmEvents(Rdmacm.rdma_create_event_channel());
        }
        return instance;
    }

    MemorySegment channel() {
        return channel;
    }

    void listen(MemorySegment id, Consumer<Event> listener) {
        listeners.put(id.address(), listener);
    }

    void forget(MemorySegment id) {
        listeners.remove(id.address());
    }

    private void run() {
        while (true) {
            MemorySegment event;
            try {
                event = Rdmacm.rdma_get_cm_event(channel);
            } catch (ErrnoException e) {
                if (e.errno() == 4) { // EINTR
                    continue;
                }
                System.err.println("nvme-rdma-cm: " + e.getMessage());
                return;
            }
            long id = RdmaCmEvent.id(event).address();
            MemorySegment pd = RdmaCmEvent.private_data(event);
            Event copy = new Event(RdmaCmEvent.event(event), RdmaCmEvent.status(event),
                    pd == null || pd.address() == 0 ? new byte[0] : pd.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            try {
                Rdmacm.rdma_ack_cm_event(event);
            } catch (ErrnoException e) {
                System.err.println("nvme-rdma-cm: " + e.getMessage());
            }
            Consumer<Event> l = listeners.get(id);
            if (l != null) {
                try {
                    l.accept(copy);
                } catch (Throwable t) {
                    Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), t);
                }
            }
        }
    }
}
