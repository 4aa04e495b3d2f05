package io.sanport.nvme.tcp;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import static io.sanport.nvme.Wire.U32;

/**
 * NVMe/TCP header and data digests (NVMe/TCP 1.0 §3.6.1.5): CRC-32C over the HLEN header bytes or over the PDU
 * data, stored as 4 little-endian bytes right after what they cover. One instance per connection or reactor:
 * it holds a reusable {@link CRC32C} and is not thread-safe.
 */
public final class Crc32c {
    private final CRC32C crc = new CRC32C();

    /** CRC-32C of {@code length} bytes at {@code offset}; the ByteBuffer view is the only allocation. */
    public int digest(MemorySegment s, long offset, long length) {
        crc.reset();
        crc.update(s.asSlice(offset, length).asByteBuffer());
        return (int) crc.getValue();
    }

    /**
     * Allocation-free variant over a view the caller keeps (e.g. {@code receiveBuffer.asByteBuffer()} made once);
     * the view's position and limit are restored.
     */
    public int digest(ByteBuffer view, int offset, int length) {
        int position = view.position();
        int limit = view.limit();
        crc.reset();
        view.limit(offset + length).position(offset);
        crc.update(view);
        view.limit(limit).position(position);
        return (int) crc.getValue();
    }

    /** Computes the digest of {@code [offset, offset + length)} and writes it right after. */
    public int put(MemorySegment s, long offset, long length) {
        int digest = digest(s, offset, length);
        s.set(U32, offset + length, digest);
        return digest;
    }

    /** Whether the 4 bytes after {@code [offset, offset + length)} are its digest. */
    public boolean verify(MemorySegment s, long offset, long length) {
        return digest(s, offset, length) == s.get(U32, offset + length);
    }
}
