package io.sanport.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The limits on queues without a Connect: defaults and their checks (the behaviour: RdmaHardeningTest). */
class PendingQueuesTest {

    @Test
    void defaultsCoverALinuxHostSettingUpAFullController() {
        PendingQueues.Limits d = PendingQueues.Limits.of(io.sanport.hostdriver.ConnectionLimits.DEFAULT);
        assertEquals(10_000, d.connectTimeoutMillis(), "the Connect timeout NVMe/TCP has too");
        assertEquals(129, d.maxPendingPerHost(), "128 I/O queues + the admin queue, all set up before their Connects");
    }

    @Test
    void nonsenseLimitsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PendingQueues.Limits(0, 8));
        assertThrows(IllegalArgumentException.class, () -> new PendingQueues.Limits(1000, 0));
    }
}
