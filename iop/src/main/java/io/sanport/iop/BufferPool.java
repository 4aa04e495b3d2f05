package io.sanport.iop;

import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.libc.Libc;
import java.lang.foreign.MemorySegment;

/**
 * A reactor's I/O buffers: one mapped region (huge pages when reserved, else normal pages, populated up front)
 * carved into equal buffers aligned to 4 KiB. The region is registered once with the ring (and later once with
 * the RDMA protection domain), so one buffer serves the NIC and the disk. A LIFO free stack keeps recently
 * used buffers hot in cache. Confined to the reactor thread; acquiring and releasing allocate nothing.
 */
public final class BufferPool implements AutoCloseable {
    public static final int ALIGNMENT = 4096;

    private final MemorySegment region;
    private final MemorySegment[] buffers;
    private final int bufferSize;
    private final int[] free;
    private final boolean hugePages;
    private int top;
    private boolean closed;

    private BufferPool(MemorySegment region, int bufferSize, int count, boolean hugePages) {
        this.region = region;
        this.bufferSize = bufferSize;
        this.hugePages = hugePages;
        this.buffers = new MemorySegment[count];
        this.free = new int[count];
        for (int i = 0; i < count; i++) {
            buffers[i] = region.asSlice((long) i * bufferSize, bufferSize);
            free[i] = count - 1 - i;
        }
        this.top = count;
    }

    public static BufferPool map(int bufferSize, int count) throws ErrnoException {
        if (bufferSize <= 0 || bufferSize % ALIGNMENT != 0 || count <= 0) {
            throw new IllegalArgumentException("buffer size must be a positive multiple of 4 KiB and count positive, got "
                    + bufferSize + " x " + count);
        }
        long bytes = (long) bufferSize * count;
        int prot = Libc.PROT_READ | Libc.PROT_WRITE;
        int flags = Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_POPULATE;
        long huge = 2L << 20;
        if (bytes % huge == 0) {
            try {
                return new BufferPool(Libc.mmap(bytes, prot, flags | Libc.MAP_HUGETLB, -1, 0, "huge pages"),
                        bufferSize, count, true);
            } catch (ErrnoException none) {
                // no huge pages reserved (vm.nr_hugepages = 0): normal pages
            }
        }
        return new BufferPool(Libc.mmap(bytes, prot, flags, -1, 0, (bytes >> 10) + " KiB of I/O buffers"),
                bufferSize, count, false);
    }

    public MemorySegment region() { return region; }
    public int bufferSize() { return bufferSize; }
    public int capacity() { return buffers.length; }
    public int available() { return top; }
    public boolean hugePages() { return hugePages; }

    /** A free buffer's index, or -1 when none is left (the caller parks the request). */
    public int acquire() {
        return top == 0 ? -1 : free[--top];
    }

    public void release(int index) {
        free[top++] = index;
    }

    public MemorySegment buffer(int index) {
        return buffers[index];
    }

    public long address(int index) {
        return region.address() + (long) index * bufferSize;
    }

    /** Whether [address, address+length) lies in the registered region, so the fixed-buffer ops apply. */
    public boolean contains(long address, long length) {
        long base = region.address();
        return address >= base && address + length <= base + region.byteSize();
    }

    @Override
    public void close() throws ErrnoException {
        if (!closed) {
            closed = true;
            Libc.munmap(region);
        }
    }
}
