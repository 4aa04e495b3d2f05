package io.sanport.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.client.ConnectOptions;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import io.sanport.hostdriver.Target;
import io.sanport.hostdriver.TargetConfig;
import io.sanport.hostdriver.TargetOptions;
import io.sanport.iop.DataPattern;
import io.sanport.iop.ReactorConfig;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Target#apply} (what {@code sanport reload} runs) under a working host, with sanport's Java initiator:
 * the host of an unaffected subsystem keeps its controller and its writes never fail while another subsystem
 * goes away and a namespace comes; it then sees the new namespace and uses it without reconnecting.
 */
class LiveReloadClientTest {
    static final String KEPT = "nqn.2026-11.io.sanport:kept";
    static final String GONE = "nqn.2026-11.io.sanport:gone";

    @TempDir
    Path dir;

    String config(Path a, Path b, Path c, boolean reloaded) {
        String extraNs = reloaded ? ", { \"nsid\": 2, \"device\": { \"path\": \"" + c + "\" } }" : "";
        String gone = reloaded ? "" : """
            , { "nqn": "%s", "attr": { "allow_any_host": "1" },
                "namespaces": [ { "nsid": 1, "device": { "path": "%s" } } ] }""".formatted(GONE, b);
        return """
            { "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "traddr": "127.0.0.1", "trsvcid": "0" },
                           "subsystems": [ "%s" %s ] } ],
              "subsystems": [
                { "nqn": "%s", "attr": { "allow_any_host": "1" },
                  "namespaces": [ { "nsid": 1, "device": { "path": "%s" } } %s ] } %s ] }
            """.formatted(KEPT, reloaded ? "" : ", \"" + GONE + "\"", KEPT, a, extraNs, gone);
    }

    static Path image(Path p, long size) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    @Test
    void reloadKeepsTheUnaffectedHostWorking() throws Exception {
        Path a = image(dir.resolve("a.img"), 16 << 20);
        Path b = image(dir.resolve("b.img"), 4 << 20);
        Path c = image(dir.resolve("c.img"), 8 << 20);
        try (Target target = Target.open(TargetConfig.parse(config(a, b, c, false), "v1.json"), 2,
                new ReactorConfig(64, 128 * 1024, 64), TargetOptions.DEFAULT.withDiscoveryPort(0))) {
            int port = target.port(1).boundPort();
            ConnectOptions options = ConnectOptions.defaults().withIoQueues(2);
            try (RemoteController kept = RemoteController.connect("127.0.0.1", port, KEPT, options);
                 RemoteController gone = RemoteController.connect("127.0.0.1", port, GONE, options);
                 Arena arena = Arena.ofShared()) {
                int cntlid = kept.cntlid();
                RemoteNamespace ns1 = kept.namespace(1);
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong writes = new AtomicLong();
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try (Arena own = Arena.ofConfined()) {
                        MemorySegment buf = own.allocate(4096, 4096);
                        for (long lba = 0; !stop.get(); lba = (lba + 8) % 4096) {
                            DataPattern.fill(buf, lba * 512, 5);
                            ns1.write(lba, buf, false);
                            writes.incrementAndGet();
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                while (writes.get() < 50) Thread.sleep(5);

                List<String> changes = target.apply(TargetConfig.parse(config(a, b, c, true), "v2.json"));

                long atReload = writes.get();
                while (writes.get() < atReload + 50) {
                    assertTrue(!writer.isDone(), "the writer stopped: " + writer);
                    Thread.sleep(5);
                }
                stop.set(true);
                writer.get(30, TimeUnit.SECONDS); // no write failed, before, during or after
                assertEquals(List.of("port 1 no longer exports " + GONE, "removed subsystem " + GONE,
                        "added namespace 2 (" + c + ") to " + KEPT), changes);
                assertEquals(cntlid, target.subsystem(KEPT).controllers().getFirst().cntlid());
                assertEquals(List.of(1, 2), kept.activeNamespaceIds());
                RemoteNamespace ns2 = kept.namespace(2);
                assertEquals(8 << 20, ns2.sizeBytes());
                MemorySegment buf = arena.allocate(8192, 4096);
                DataPattern.fill(buf, 0, 9);
                ns2.write(0, buf, true);
                MemorySegment back = arena.allocate(8192, 4096);
                ns2.read(0, back);
                assertEquals(-1, DataPattern.firstMismatch(back, 0, 9));
                // the removed subsystem's host lost its controller
                assertEquals(null, target.subsystem(GONE));
                MemorySegment one = arena.allocate(4096, 4096);
                assertThrows(Exception.class, () -> {
                    for (int i = 0; i < 100; i++) {
                        gone.namespace(1).read(0, one);
                        Thread.sleep(20);
                    }
                });
            }
        }
    }
}
