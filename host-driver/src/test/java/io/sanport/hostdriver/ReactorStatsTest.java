package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/** The per-reactor counters' layout: latency buckets, and slots of namespaces or ports added while running. */
class ReactorStatsTest {

    @Test
    void latencyBucketsArePowersOfTwoFrom16MicrosecondsTo1Second() {
        assertEquals(0, IoCounters.bucket(0));
        assertEquals(0, IoCounters.bucket(16_999)); // 16 us: le 16e-6
        assertEquals(1, IoCounters.bucket(17_000));
        assertEquals(1, IoCounters.bucket(32_999));
        assertEquals(2, IoCounters.bucket(33_000));
        assertEquals(16, IoCounters.bucket(1_048_576_000L)); // 2^20 us
        assertEquals(17, IoCounters.bucket(1_048_577_000L)); // +Inf
        assertEquals(17, IoCounters.bucket(Long.MAX_VALUE));
        for (int i = 0; i < IoCounters.BUCKETS - 1; i++) {
            long boundNanos = Math.round(IoCounters.boundSeconds(i) * 1e9);
            assertEquals(i, IoCounters.bucket(boundNanos), "bound " + boundNanos);
            assertEquals(i + 1, IoCounters.bucket(boundNanos + 1000), "past bound " + boundNanos);
        }
        assertEquals(Double.POSITIVE_INFINITY, IoCounters.boundSeconds(IoCounters.BUCKETS - 1));
    }

    /** A slot past the arrays (a namespace added at run time) grows them once; earlier counters stay as they were. */
    @Test
    void aSlotAddedLaterGrowsTheArraysAndKeepsTheCounts() {
        ReactorStats s = new ReactorStats();
        IoCounters first = s.namespace(0);
        first.v[IoCounters.READS] = 7;
        IoCounters late = s.namespace(37);
        assertSame(late, s.namespace(37));
        assertSame(first, s.namespace(0));
        assertEquals(7, s.namespaces()[0].v[IoCounters.READS]);
        assertEquals(64, s.namespaces().length);
        assertSame(late, s.namespaces()[37]);
        // no slot: counted where nothing reports it
        IoCounters none = s.namespace(-1);
        assertNotSame(first, none);
        assertSame(none, s.port(-1));
        for (IoCounters c : s.namespaces()) {
            assertNotSame(none, c);
        }
    }
}
