package io.sanport.hostdriver;

/**
 * One host address's share of a reactor's buffer pool: how many buffers its queues there hold whose release
 * waits on the host (writes whose data it still owes, reads until it has taken their data), against
 * {@link TargetOptions#hostPacedPerHost}. Keyed by the network address, not the host NQN: a name anyone can
 * send would let one host spread over many. Reactor thread only; it goes with the last queue of the address.
 */
final class HostShare {
    final String address;
    int held;   // buffers counted now
    int queues; // queue pairs of this address on the reactor

    HostShare(String address) {
        this.address = address;
    }

    @Override
    public String toString() {
        return "host " + address + " (" + held + " buffers held, " + queues + " queues)";
    }
}
