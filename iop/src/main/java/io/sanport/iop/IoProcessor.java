package io.sanport.iop;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The I/O processor: the devices it drives and one reactor per core given to it, each reactor with the
 * devices registered in its own ring. Owns both: closing quiesces the reactors first, then closes the devices.
 *
 * <p>A device sits in one fixed-file slot, the same on every reactor's ring: its index in {@link #devices()}
 * and in every {@link IoRequest}. Devices can be added ({@link #addDevice}) and removed ({@link #removeDevice})
 * while the reactors run; a removed device's slot is free for the next one once its I/O in flight is done.
 * Adding and removing are for the control path (one at a time; they wait for every reactor).
 */
public final class IoProcessor implements AutoCloseable {
    /** How long adding or removing a device waits for the reactors (removal: for the I/O in flight). */
    static final long RECONFIGURE_TIMEOUT_SECONDS = 60;

    private final BlockDevice[] slots; // guarded by this; null = free
    private final List<Reactor> reactors;

    private IoProcessor(BlockDevice[] slots, List<Reactor> reactors) {
        this.slots = slots;
        this.reactors = reactors;
    }

    /** Takes ownership of {@code devices}; on failure they are closed too. */
    public static IoProcessor start(int reactorCount, ReactorConfig config, List<BlockDevice> devices) throws IOException {
        return start(reactorCount, config, devices, Math.max(BlockEngine.DEFAULT_SLOTS, devices.size()));
    }

    /** As {@link #start(int, ReactorConfig, List)} with room for {@code slots} devices at once. */
    public static IoProcessor start(int reactorCount, ReactorConfig config, List<BlockDevice> devices, int slots)
            throws IOException {
        List<Reactor> reactors = new ArrayList<>();
        try {
            BlockDevice[] array = devices.toArray(BlockDevice[]::new);
            for (int i = 0; i < reactorCount; i++) {
                reactors.add(new Reactor("sanport-reactor-" + i, config, slots, array));
            }
            return new IoProcessor(Arrays.copyOf(array, slots), List.copyOf(reactors));
        } catch (IOException | RuntimeException e) {
            closeAll(reactors, devices, e);
            throw e;
        }
    }

    /** One reactor per available core, as the design says, unless told otherwise. */
    public static int defaultReactors() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** The devices by slot: element i is the device in fixed-file slot i, null for a free slot. A snapshot. */
    public synchronized List<BlockDevice> devices() {
        int last = slots.length;
        while (last > 0 && slots[last - 1] == null) {
            last--;
        }
        return Collections.unmodifiableList(Arrays.asList(Arrays.copyOf(slots, last)));
    }

    public List<Reactor> reactors() { return reactors; }
    public Reactor reactor(int i) { return reactors.get(i); }

    /**
     * Registers {@code device} in a free slot of every reactor's ring and returns the slot. Takes ownership of
     * the device only on success: on failure it is unregistered where it got in, and stays the caller's.
     * Control path; blocks until every reactor has it.
     */
    public synchronized int addDevice(BlockDevice device) throws IOException {
        int index = -1;
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] == device) {
                throw new IllegalArgumentException(device.name() + " is already in slot " + i);
            }
            if (slots[i] == null && index < 0) {
                index = i;
            }
        }
        if (index < 0) {
            throw new IOException("no free fixed-file slot for " + device.name() + ": all " + slots.length
                    + " hold devices");
        }
        List<Reactor> added = new ArrayList<>();
        try {
            for (Reactor r : reactors) {
                await(r.attach(index, device), "registering " + device.name() + " with " + r.name());
                added.add(r);
            }
        } catch (IOException | RuntimeException e) {
            for (Reactor r : added) {
                try {
                    await(r.detach(index), "unregistering " + device.name() + " from " + r.name());
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        slots[index] = device;
        return index;
    }

    /**
     * Removes the device in slot {@code index} from every reactor's ring: requests for it are refused from now
     * on, those in flight complete first (the call waits for them), a writable device is flushed, then the device
     * is closed and the slot is free again. A failed flush is thrown after the device is closed (what was
     * acknowledged may not be on the medium); a reactor that did not drain in time keeps the slot taken and the
     * device open. Control path.
     */
    public synchronized void removeDevice(int index) throws IOException {
        BlockDevice device = index >= 0 && index < slots.length ? slots[index] : null;
        if (device == null) {
            throw new IllegalArgumentException("no device in slot " + index);
        }
        List<CompletableFuture<Void>> drained = new ArrayList<>();
        for (Reactor r : reactors) {
            drained.add(r.detach(index));
        }
        IOException failure = null;
        for (int i = 0; i < drained.size(); i++) {
            try {
                await(drained.get(i), "draining " + device.name() + " on " + reactors.get(i).name());
            } catch (IOException | RuntimeException e) {
                if (failure == null) failure = e instanceof IOException io ? io : new IOException(e);
                else failure.addSuppressed(e);
            }
        }
        if (drained.stream().allMatch(CompletableFuture::isDone)) {
            slots[index] = null; // every ring let go of it, flushed or not
            try {
                device.close();
            } catch (IOException e) {
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static void await(CompletableFuture<Void> f, String what) throws IOException {
        try {
            f.get(RECONFIGURE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) throw io;
            if (cause instanceof RuntimeException re) throw re;
            throw new IOException(what + ": " + cause, cause);
        } catch (TimeoutException e) {
            throw new IOException(what + ": timed out after " + RECONFIGURE_TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + ": interrupted", e);
        }
    }

    @Override
    public void close() throws IOException {
        IOException failure = new IOException("closing the I/O processor");
        List<BlockDevice> devices;
        synchronized (this) {
            devices = Arrays.stream(slots).filter(d -> d != null).toList();
        }
        closeAll(reactors, devices, failure);
        if (failure.getSuppressed().length > 0) {
            throw failure;
        }
    }

    private static void closeAll(List<Reactor> reactors, List<BlockDevice> devices, Exception failure) {
        for (Reactor r : reactors) {
            try {
                r.close();
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
        for (BlockDevice d : devices) {
            try {
                d.close();
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }
}
