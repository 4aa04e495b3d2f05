package io.sanport.iop;

/**
 * Told when an {@link IoRequest} completes, on the reactor thread that ran it. Implemented by the object that
 * owns the request (a queue pair's request slot), so completing allocates nothing.
 */
@FunctionalInterface
public interface IoCallback {
    void ioComplete(IoRequest request);
}
