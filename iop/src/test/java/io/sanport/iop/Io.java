package io.sanport.iop;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/** Blocking helpers for tests: run a request on a reactor with one of its buffers, and wait for it. */
final class Io {
    private Io() {}

    static IoRequest run(Reactor r, IoRequest request) throws Exception {
        return r.submitAsync(request).get(30, TimeUnit.SECONDS);
    }

    /** On the reactor: takes a buffer, lets {@code before} fill it, runs the request, lets {@code after} read it. */
    static long withBuffer(Reactor r, int length, java.util.function.Consumer<MemorySegment> before,
                           java.util.function.Function<Long, IoRequest> request, ToLongFunction<MemorySegment> after)
            throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        r.execute(() -> {
            BufferPool pool = r.buffers();
            int b = pool.acquire();
            MemorySegment seg = pool.buffer(b).asSlice(0, length);
            before.accept(seg);
            IoRequest req = request.apply(pool.address(b));
            r.submit(req.callback(q -> {
                try {
                    if (!q.succeeded()) {
                        done.completeExceptionally(new AssertionError(q.describe(r.device(q.device()))));
                    } else {
                        done.complete(after.applyAsLong(seg));
                    }
                } finally {
                    pool.release(b);
                }
            }));
        });
        return done.get(30, TimeUnit.SECONDS);
    }

    static void writePattern(Reactor r, int device, long offset, int length, long seed) throws Exception {
        withBuffer(r, length, seg -> DataPattern.fill(seg, offset, seed),
                a -> new IoRequest().write(device, offset, length, a, false), seg -> 0);
    }

    /** Reads back and returns the first mismatch offset (-1 = all good); fails on an I/O error. */
    static long verifyPattern(Reactor r, int device, long offset, int length, long seed) throws Exception {
        return withBuffer(r, length, seg -> { }, a -> new IoRequest().read(device, offset, length, a),
                seg -> DataPattern.firstMismatch(seg, offset, seed));
    }

    static long firstNonZero(Reactor r, int device, long offset, int length) throws Exception {
        return withBuffer(r, length, seg -> { }, a -> new IoRequest().read(device, offset, length, a),
                DataPattern::firstNonZero);
    }

    static long bufferAddress(Reactor r) throws Exception {
        return r.call(x -> x.buffers().address(0)).get();
    }
}
