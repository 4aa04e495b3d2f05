package io.sanport.hostdriver;

/**
 * The Local Transport: how the core hands a request's block I/O to the I/O processor and gets it back (the
 * design's host driver <-> IOP path). One instance per reactor, called on its thread only. An implementation
 * submits without allocating per I/O and calls {@link Request#ioComplete(int)} once, on the same thread: later,
 * or from inside the submitting call when it refuses the I/O (the core allows both).
 */
public interface LocalTransport {

    /** Reads {@code length} bytes at byte {@code offset} of {@code ns} into {@code address} (a pool buffer). */
    void read(Request r, Namespace ns, long offset, int length, long address);

    /** Writes {@code length} bytes from {@code address} to byte {@code offset} of {@code ns}; {@code fua}: durable first. */
    void write(Request r, Namespace ns, long offset, int length, long address, boolean fua);

    /** Makes every completed write of {@code ns} durable. */
    void flush(Request r, Namespace ns);

    /** Zeroes {@code length} bytes at {@code offset}. */
    void writeZeroes(Request r, Namespace ns, long offset, long length);

    /** Deallocates {@code length} bytes at {@code offset} (DSM deallocate). */
    void discard(Request r, Namespace ns, long offset, long length);
}
