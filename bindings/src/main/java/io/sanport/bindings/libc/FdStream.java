package io.sanport.bindings.libc;

import io.sanport.bindings.Errno;
import io.sanport.bindings.Native;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Blocking {@code InputStream}/{@code OutputStream} views of a socket descriptor, for the TLS handshake and the
 * relay threads that carry a TLS session's records (off the reactors; they copy through one native buffer each
 * way). The descriptor stays the caller's: closing this frees the buffers only.
 */
public final class FdStream implements AutoCloseable {
    private static final int BUFFER = 64 * 1024;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment inBuf = arena.allocate(BUFFER, 4096);
    private final MemorySegment outBuf = arena.allocate(BUFFER, 4096);
    private final MemorySegment inState = arena.allocate(Native.CAPTURE_LAYOUT);
    private final MemorySegment outState = arena.allocate(Native.CAPTURE_LAYOUT);
    private final InputStream in = new In();
    private final OutputStream out = new Out();

    public FdStream(int fd) {
        this.fd = fd;
    }

    public InputStream in() { return in; }
    public OutputStream out() { return out; }

    @Override
    public void close() {
        arena.close();
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (true) {
                long n = Libc.read(fd, inBuf.asSlice(0, Math.min(len, BUFFER)), inState);
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new IOException("read from fd " + fd + ": " + Errno.describe((int) -n));
                }
                if (n == 0) {
                    return -1;
                }
                MemorySegment.copy(inBuf, ValueLayout.JAVA_BYTE, 0, b, off, (int) n);
                return (int) n;
            }
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int chunk = Math.min(len, BUFFER);
                MemorySegment.copy(b, off, outBuf, ValueLayout.JAVA_BYTE, 0, chunk);
                int done = 0;
                while (done < chunk) {
                    long n = Libc.write(fd, outBuf.asSlice(done, chunk - done), outState);
                    if (n == -Errno.EINTR) {
                        continue;
                    }
                    if (n < 0) {
                        throw new IOException("write to fd " + fd + ": " + Errno.describe((int) -n));
                    }
                    done += (int) n;
                }
                off += chunk;
                len -= chunk;
            }
        }
    }
}
