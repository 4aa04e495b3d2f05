package io.sanport.cli;

import java.nio.file.Path;

/**
 * The built-in default device: a sparse image file sanport creates on first use, so every command works on a
 * machine with no spare disk. $SANPORT_HOME, else $XDG_DATA_HOME/sanport, else ~/.local/share/sanport.
 */
final class DefaultImage {
    static final long SIZE = 1L << 30;

    private DefaultImage() {}

    static Path path() {
        String home = System.getenv("SANPORT_HOME");
        if (home == null || home.isBlank()) {
            String xdg = System.getenv("XDG_DATA_HOME");
            home = (xdg == null || xdg.isBlank() ? Path.of(System.getProperty("user.home"), ".local", "share")
                    : Path.of(xdg)).resolve("sanport").toString();
        }
        return Path.of(home, "default.img");
    }
}
