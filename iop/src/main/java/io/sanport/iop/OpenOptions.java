package io.sanport.iop;

/**
 * How to open a device. {@code createSize} creates a sparse regular file of that size when none exists
 * (the built-in default image); {@code direct} asks for O_DIRECT, which sanport uses unless the filesystem
 * refuses it; {@code shared} opens a block device without O_EXCL, so that a second process (another sanport
 * serving the same subsystem as a second path) may open it too: the caller says so loudly.
 */
public record OpenOptions(boolean readOnly, boolean direct, long createSize, boolean shared) {
    public static final OpenOptions DEFAULT = new OpenOptions(false, true, 0, false);

    public OpenOptions(boolean readOnly, boolean direct, long createSize) {
        this(readOnly, direct, createSize, false);
    }

    public OpenOptions creating(long size) {
        return new OpenOptions(readOnly, direct, size, shared);
    }

    public OpenOptions buffered() {
        return new OpenOptions(readOnly, false, createSize, shared);
    }

    public OpenOptions sharing() {
        return new OpenOptions(readOnly, direct, createSize, true);
    }
}
