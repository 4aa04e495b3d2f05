package io.sanport.cli;

import io.sanport.iop.BlockDevice;
import io.sanport.iop.BlockDevices;
import io.sanport.iop.OpenOptions;
import java.io.IOException;
import java.io.PrintStream;
import picocli.CommandLine.Option;

/** {@code --device}: a block device, an image file or ram:SIZE; the default image when absent. */
final class DeviceOption {
    @Option(names = {"-d", "--device"}, paramLabel = "PATH",
            description = "Block device (/dev/nvme0n1), image file, or ram:SIZE. Default: the built-in image "
                    + "(created sparse, 1 GiB, under $SANPORT_HOME or ~/.local/share/sanport).")
    String device;

    @Option(names = "--buffered", description = "Go through the page cache instead of O_DIRECT.")
    boolean buffered;

    String describe() {
        return device == null ? "the default image " + DefaultImage.path() : device;
    }

    /** Creates the default image (sparse) if it is not there yet, saying so. */
    static void createDefaultIfMissing(PrintStream out) throws IOException {
        var path = DefaultImage.path();
        if (!java.nio.file.Files.exists(path)) {
            out.println("creating the default image " + path + " (" + (DefaultImage.SIZE >> 20) + " MiB, sparse)");
            BlockDevices.open(path.toString(), OpenOptions.DEFAULT.creating(DefaultImage.SIZE)).close();
        }
    }

    BlockDevice open(PrintStream out) throws IOException {
        OpenOptions options = buffered ? OpenOptions.DEFAULT.buffered() : OpenOptions.DEFAULT;
        if (device == null) {
            var path = DefaultImage.path();
            if (!java.nio.file.Files.exists(path)) {
                out.println("creating the default image " + path + " (" + (DefaultImage.SIZE >> 20) + " MiB, sparse)");
            }
            return BlockDevices.open(path.toString(), options.creating(DefaultImage.SIZE));
        }
        return BlockDevices.open(device, options);
    }
}
