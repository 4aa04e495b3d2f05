package io.sanport.cli;

import io.sanport.bindings.libc.Libc;
import io.sanport.bindings.uring.Liburing;
import io.sanport.iop.BlockDevice;
import io.sanport.iop.Reactor;
import io.sanport.iop.ReactorConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code sanport info}: what this machine and a device offer, for a user asking why something fails. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show a device's geometry and capabilities, and this machine's io_uring and memory-lock limits.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        long[] memlock = Libc.getrlimit(Libc.RLIMIT_MEMLOCK);
        System.out.println("RLIMIT_MEMLOCK: soft " + limit(memlock[0]) + ", hard " + limit(memlock[1]));
        try (BlockDevice dev = device.open(System.out);
             Reactor r = new Reactor("sanport-info", new ReactorConfig(8, 4096, 1), dev)) {
            System.out.println("device:         " + dev.name() + " (" + dev.kind() + ")");
            System.out.println("size:           " + dev.size() + " bytes (" + (dev.size() >> 20) + " MiB)");
            System.out.println("block sizes:    logical " + dev.logicalBlockSize() + ", physical " + dev.physicalBlockSize()
                    + ", optimal I/O " + dev.optimalIoSize());
            System.out.println("I/O path:       " + (dev.directIo() ? "O_DIRECT" : "page cache (buffered)")
                    + (dev.readOnly() ? ", read-only" : ""));
            System.out.println("capabilities:   discard " + yes(dev.supportsDiscard()) + ", write zeroes "
                    + yes(dev.supportsWriteZeroes()) + ", volatile write cache " + yes(dev.volatileWriteCache())
                    + ", FUA " + yes(dev.supportsFua()));
            int flags = r.ringSetupFlags();
            System.out.println("io_uring:       ok (" + ((flags & Liburing.IORING_SETUP_SINGLE_ISSUER) != 0
                    ? "single issuer, cooperative task running" : "plain ring") + "), fixed buffers and files registered");
        }
        return 0;
    }

    private static String limit(long v) {
        return v == Libc.RLIM_INFINITY ? "unlimited" : (v >> 10) + " KiB";
    }

    private static String yes(boolean b) {
        return b ? "yes" : "no";
    }
}
