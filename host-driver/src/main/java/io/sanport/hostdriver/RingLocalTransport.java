package io.sanport.hostdriver;

import io.sanport.iop.IoRequest;
import io.sanport.iop.Reactor;

/**
 * The {@link LocalTransport} over an iop {@link Reactor}: each request slot gets one {@link IoRequest} on its
 * first I/O and reuses it, so the data path allocates nothing; the ring's completion maps errno to an NVMe
 * status ({@link StatusMapper}) and returns to the core.
 */
final class RingLocalTransport implements LocalTransport {
    private final Reactor reactor;
    private final int processor;

    RingLocalTransport(Reactor reactor, int processor) {
        this.reactor = reactor;
        this.processor = processor;
    }

    private static IoRequest io(Request r) {
        IoRequest io = (IoRequest) r.local;
        if (io == null) {
            io = new IoRequest(done -> r.ioComplete(StatusMapper.of(done)));
            r.local = io;
        }
        return io;
    }

    @Override
    public void read(Request r, Namespace ns, long offset, int length, long address) {
        reactor.submit(io(r).read(ns.deviceIndex(processor), offset, length, address));
    }

    @Override
    public void write(Request r, Namespace ns, long offset, int length, long address, boolean fua) {
        reactor.submit(io(r).write(ns.deviceIndex(processor), offset, length, address, fua));
    }

    @Override
    public void flush(Request r, Namespace ns) {
        reactor.submit(io(r).flush(ns.deviceIndex(processor)));
    }

    @Override
    public void writeZeroes(Request r, Namespace ns, long offset, long length) {
        reactor.submit(io(r).writeZeroes(ns.deviceIndex(processor), offset, length));
    }

    @Override
    public void discard(Request r, Namespace ns, long offset, long length) {
        reactor.submit(io(r).discard(ns.deviceIndex(processor), offset, length));
    }
}
