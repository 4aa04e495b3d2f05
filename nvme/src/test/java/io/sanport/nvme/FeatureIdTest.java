package io.sanport.nvme;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §3.6 and libnvme enum nvme_features_id. */
class FeatureIdTest {
    @Test
    void featureIds() {
        assertEquals(0x06, FeatureId.VOLATILE_WC);
        assertEquals(0x07, FeatureId.NUM_QUEUES);
        assertEquals(0x0B, FeatureId.ASYNC_EVENT);
        assertEquals(0x0C, FeatureId.AUTO_PST);
        assertEquals(0x0E, FeatureId.TIMESTAMP);
        assertEquals(0x0F, FeatureId.KATO);
        assertEquals(0x16, FeatureId.HOST_BEHAVIOR);
        assertEquals(0x00070003, FeatureId.numQueues(3, 7));
    }
}
