package io.sanport.iop;

import java.io.IOException;

/**
 * Opens one kind of {@link BlockDevice}. Found with ServiceLoader, as nvmet picks a backend when a namespace
 * is enabled: the first provider that {@link #accepts} a name opens it.
 */
public interface BlockDeviceProvider {

    /** A short unique name: "block", "file", "ram". */
    String kind();

    /** Whether this provider opens {@code name} (a path, or a "kind:" prefixed spec). */
    boolean accepts(String name);

    BlockDevice open(String name, OpenOptions options) throws IOException;
}
