package io.sanport.iop;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/** The registry of {@link BlockDeviceProvider}s found on the class path; duplicate kinds are refused. */
public final class BlockDevices {
    private static final List<BlockDeviceProvider> PROVIDERS = load();

    private BlockDevices() {}

    private static List<BlockDeviceProvider> load() {
        List<BlockDeviceProvider> providers = new ArrayList<>();
        Set<String> kinds = new HashSet<>();
        for (BlockDeviceProvider p : ServiceLoader.load(BlockDeviceProvider.class, BlockDevices.class.getClassLoader())) {
            if (!kinds.add(p.kind())) {
                throw new IllegalStateException("two block device providers of kind " + p.kind());
            }
            providers.add(p);
        }
        return List.copyOf(providers);
    }

    public static List<String> kinds() {
        return PROVIDERS.stream().map(BlockDeviceProvider::kind).toList();
    }

    public static BlockDevice open(String name) throws IOException {
        return open(name, OpenOptions.DEFAULT);
    }

    public static BlockDevice open(String name, OpenOptions options) throws IOException {
        for (BlockDeviceProvider p : PROVIDERS) {
            if (p.accepts(name)) {
                return p.open(name, options);
            }
        }
        throw new IOException("cannot open " + name + ": not a block device, regular file or ram:SIZE spec (kinds: "
                + String.join(", ", kinds()) + ")");
    }

    /** Parses "64M", "1G", "4096", "4k" into bytes. */
    public static long parseSize(String text) {
        String t = text.strip().toLowerCase();
        if (t.endsWith("ib")) t = t.substring(0, t.length() - 2);
        if (t.endsWith("b")) t = t.substring(0, t.length() - 1);
        long unit = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        switch (last) {
            case 'k' -> unit = 1L << 10;
            case 'm' -> unit = 1L << 20;
            case 'g' -> unit = 1L << 30;
            case 't' -> unit = 1L << 40;
            default -> { }
        }
        if (unit != 1) t = t.substring(0, t.length() - 1);
        try {
            long value = Long.parseLong(t);
            if (value < 0) throw new NumberFormatException();
            return Math.multiplyExact(value, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 4096, 4k, 64M, 1G)");
        }
    }
}
