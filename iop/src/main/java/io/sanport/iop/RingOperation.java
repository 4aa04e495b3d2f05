package io.sanport.iop;

/**
 * An operation on a reactor's ring other than block I/O to a registered device: socket receive, send,
 * accept, poll. Preallocated and reused by its owner (a connection), like {@link IoRequest}; it waits in the
 * reactor's one park queue, in order with block I/O, when no slot or SQ entry is free. A multishot operation
 * keeps its slot while its completions carry IORING_CQE_F_MORE.
 */
public abstract class RingOperation extends RingWork {

    /** An operation that takes a shared slot (and parks in order with block I/O when none is free). */
    protected RingOperation() {
        super(false);
    }

    /**
     * {@code connectionSlot}: a connection's own receive or send, which takes one of the two slots the reactor
     * keeps for each connection it admitted ({@link Reactor#tryAddConnection}), so it never waits behind block
     * I/O and idle connections never hold the slots block I/O needs.
     */
    protected RingOperation(boolean connectionSlot) {
        super(connectionSlot);
    }

    /** Writes this operation's SQE with {@code userData}; false when the SQ is full. Reactor thread. */
    @Override
    protected abstract boolean prep(SubmissionQueue sq, long userData);

    /** One completion: {@code res} is the result or -errno, {@code flags} the CQE flags. Reactor thread. */
    @Override
    protected abstract void complete(int res, int flags);
}
