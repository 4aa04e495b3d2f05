package io.sanport.iop;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A real loop device over a file in /dev/shm (a RAM disk with a block layer), for tests run as root. */
final class LoopDevice implements AutoCloseable {
    final Path backing;
    final String device;

    private LoopDevice(Path backing, String device) {
        this.backing = backing;
        this.device = device;
    }

    static boolean available() {
        return "root".equals(System.getProperty("user.name")) && Files.exists(Path.of("/dev/loop-control"))
                && (Files.isExecutable(Path.of("/usr/sbin/losetup")) || Files.isExecutable(Path.of("/sbin/losetup")));
    }

    static LoopDevice create(long size) throws IOException, InterruptedException {
        Path backing = Files.createTempFile(Path.of("/dev/shm"), "sanport-test-", ".img");
        try (var f = new java.io.RandomAccessFile(backing.toFile(), "rw")) {
            f.setLength(size);
        }
        String dev = run("losetup", "--find", "--show", backing.toString()).strip();
        return new LoopDevice(backing, dev);
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
        } finally {
            Files.deleteIfExists(backing);
        }
    }
}
