package io.sanport.iop;

/**
 * How to open a device. {@code createSize} creates a sparse regular file of that size when none exists
 * (the built-in default image); {@code direct} asks for O_DIRECT, which sanport uses unless the filesystem
 * refuses it.
 */
public record OpenOptions(boolean readOnly, boolean direct, long createSize) {
    public static final OpenOptions DEFAULT = new OpenOptions(false, true, 0);

    public OpenOptions creating(long size) {
        return new OpenOptions(readOnly, direct, size);
    }

    public OpenOptions buffered() {
        return new OpenOptions(readOnly, false, createSize);
    }
}
