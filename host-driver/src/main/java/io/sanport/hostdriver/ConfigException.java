package io.sanport.hostdriver;

import java.io.IOException;

/** A configuration the target refuses: names the file, the JSON path of the field and what is wrong with it. */
public final class ConfigException extends IOException {
    private final String path;
    private final String problem;

    public ConfigException(String source, String path, String problem) {
        super((source == null ? "" : source + ": ") + path + ": " + problem);
        this.path = path;
        this.problem = problem;
    }

    /** The JSON path of the offending field, e.g. {@code $.subsystems[0].namespaces[1].device.path}. */
    public String path() {
        return path;
    }

    public String problem() {
        return problem;
    }
}
