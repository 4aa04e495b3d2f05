package io.sanport.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Open file descriptors, resident memory and threads of a process, read from /proc. */
public record ProcessSample(long fds, long rssKib, long threads) {
    /** {@code pid} "self" for this JVM. */
    public static ProcessSample of(String pid) throws IOException {
        Path proc = Path.of("/proc", pid);
        long fds = 0;
        try (DirectoryStream<Path> d = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path ignored : d) fds++;
        }
        if (pid.equals("self")) fds--; // the directory stream's own descriptor
        long rss = -1, threads = -1;
        for (String line : Files.readAllLines(proc.resolve("status"))) {
            if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
            else if (line.startsWith("Threads:")) threads = Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return new ProcessSample(fds, rss, threads);
    }

    /** What each open descriptor of this JVM refers to (socket:[inode], anon_inode:[io_uring], a path): for leak reports. */
    public static java.util.List<String> selfFdTargets() throws IOException {
        java.util.List<String> out = new java.util.ArrayList<>();
        try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : d) {
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    if (target.startsWith("/proc/")) continue; // this listing's own descriptor
                    out.add(p.getFileName() + " -> " + target + tcpEndpoints(target));
                } catch (IOException gone) {
                    // closed meanwhile, or the stream's own descriptor
                }
            }
        }
        return out;
    }

    /** For socket:[inode], the TCP endpoints and state from /proc/net/tcp, so a leaked socket says whose it is. */
    private static String tcpEndpoints(String target) throws IOException {
        if (!target.startsWith("socket:[")) return "";
        String inode = target.substring(8, target.length() - 1);
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[9].equals(inode)) {
                    return " (tcp local port " + Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16)
                            + ", remote port " + Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16)
                            + ", state 0x" + f[3] + ")";
                }
            }
        }
        return "";
    }

    public static ProcessSample self() throws IOException {
        return of("self");
    }

    @Override
    public String toString() {
        return "fds " + fds + ", RSS " + rssKib / 1024 + " MiB, threads " + threads;
    }
}
