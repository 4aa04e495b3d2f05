package io.sanport.nvme;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §3.8. */
class AsyncEventTest {
    @Test
    void asyncEvents() {
        assertEquals(0x00040002, AsyncEvent.NS_CHANGED);
        assertEquals(0x0070F002, AsyncEvent.DISCOVERY_CHANGED);
        assertEquals(0x000C0302, AsyncEvent.dw0(AsyncEvent.TYPE_NOTICE, AsyncEvent.INFO_ANA_CHANGE, LogPageId.ANA));
    }
}
