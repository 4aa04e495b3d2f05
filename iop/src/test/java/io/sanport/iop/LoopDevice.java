package io.sanport.iop;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A real loop device over a file in /dev/shm (a RAM disk with a block layer), for tests run as root. */
final class LoopDevice implements AutoCloseable {
    // <linux/loop.h>
    private static final long LOOP_CTL_ADD = 0x4C80;
    private static final long LOOP_CTL_REMOVE = 0x4C81;
    /** Far above what `losetup --find` hands out while lower devices are free. */
    private static final int PRIVATE_BASE = 200;

    final Path backing;
    final String device;
    private final int removeIndex;

    private LoopDevice(Path backing, String device, int removeIndex) {
        this.backing = backing;
        this.device = device;
        this.removeIndex = removeIndex;
    }

    static boolean available() {
        return "root".equals(System.getProperty("user.name")) && Files.exists(Path.of("/dev/loop-control"))
                && (Files.isExecutable(Path.of("/usr/sbin/losetup")) || Files.isExecutable(Path.of("/sbin/losetup")));
    }

    static LoopDevice create(long size) throws IOException, InterruptedException {
        Path backing = backingFile(size);
        String dev = run("losetup", "--find", "--show", backing.toString()).strip();
        return new LoopDevice(backing, dev, -1);
    }

    /**
     * A loop device of its own, added at a high index and removed again on close, for a test that changes
     * its queue limits in sysfs: a limit written there (discard_max_bytes) outlives the detach and would
     * surprise the next user of a shared /dev/loopN.
     */
    static LoopDevice createPrivate(long size) throws IOException, InterruptedException {
        int index = -1;
        int control = Libc.open("/dev/loop-control", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try {
            for (int i = PRIVATE_BASE + (int) (ProcessHandle.current().pid() % 50); index < 0 && i < 1000; i++) {
                try {
                    index = Libc.ioctl(control, LOOP_CTL_ADD, MemorySegment.ofAddress(i), "ioctl(LOOP_CTL_ADD)", i);
                } catch (ErrnoException e) {
                    if (e.errno() != Errno.EEXIST) throw e;
                }
            }
        } finally {
            Libc.close(control);
        }
        String dev = "/dev/loop" + index;
        for (int i = 0; i < 100 && !Files.exists(Path.of(dev)); i++) {
            Thread.sleep(10); // devtmpfs makes the node
        }
        Path backing = backingFile(size);
        try {
            run("losetup", dev, backing.toString());
        } catch (IOException e) {
            Files.deleteIfExists(backing);
            remove(index);
            throw e;
        }
        return new LoopDevice(backing, dev, index);
    }

    private static Path backingFile(long size) throws IOException {
        Path backing = Files.createTempFile(Path.of("/dev/shm"), "sanport-test-", ".img");
        try (var f = new java.io.RandomAccessFile(backing.toFile(), "rw")) {
            f.setLength(size);
        }
        return backing;
    }

    /** LOOP_CTL_REMOVE; EBUSY while the detach is still running down, so retried for a while. */
    private static void remove(int index) throws IOException, InterruptedException {
        int control = Libc.open("/dev/loop-control", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        try {
            for (int attempt = 0; ; attempt++) {
                try {
                    Libc.ioctl(control, LOOP_CTL_REMOVE, MemorySegment.ofAddress(index), "ioctl(LOOP_CTL_REMOVE)",
                            index);
                    return;
                } catch (ErrnoException e) {
                    if (e.errno() != Errno.EBUSY || attempt >= 200) throw e;
                    Thread.sleep(10);
                }
            }
        } finally {
            Libc.close(control);
        }
    }

    /** The loop device's request queue attributes in sysfs (/sys/block/loopN/queue). */
    Path queue() {
        return Path.of("/sys/block", Path.of(device).getFileName().toString(), "queue");
    }

    String queueAttribute(String name) throws IOException {
        return Files.readString(queue().resolve(name)).strip();
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            run("losetup", "-d", device);
            if (removeIndex >= 0) {
                remove(removeIndex);
            }
        } finally {
            Files.deleteIfExists(backing);
        }
    }
}
