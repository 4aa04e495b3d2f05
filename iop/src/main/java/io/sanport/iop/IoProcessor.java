package io.sanport.iop;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The I/O processor: the devices it drives and one reactor per core given to it, each reactor with the
 * devices registered in its own ring. Owns both: closing quiesces the reactors first, then closes the devices.
 */
public final class IoProcessor implements AutoCloseable {
    private final List<BlockDevice> devices;
    private final List<Reactor> reactors;

    private IoProcessor(List<BlockDevice> devices, List<Reactor> reactors) {
        this.devices = devices;
        this.reactors = reactors;
    }

    /** Takes ownership of {@code devices}; on failure they are closed too. */
    public static IoProcessor start(int reactorCount, ReactorConfig config, List<BlockDevice> devices) throws IOException {
        List<Reactor> reactors = new ArrayList<>();
        try {
            BlockDevice[] array = devices.toArray(BlockDevice[]::new);
            for (int i = 0; i < reactorCount; i++) {
                reactors.add(new Reactor("sanport-reactor-" + i, config, array));
            }
            return new IoProcessor(List.copyOf(devices), List.copyOf(reactors));
        } catch (IOException | RuntimeException e) {
            closeAll(reactors, devices, e);
            throw e;
        }
    }

    /** One reactor per available core, as the design says, unless told otherwise. */
    public static int defaultReactors() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public List<BlockDevice> devices() { return devices; }
    public List<Reactor> reactors() { return reactors; }
    public Reactor reactor(int i) { return reactors.get(i); }

    @Override
    public void close() throws IOException {
        IOException failure = new IOException("closing the I/O processor");
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
