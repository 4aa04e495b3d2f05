package io.sanport.nvme;

import java.util.UUID;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rules: nvmeof.md §2.2 (223-byte NQN), §3.10 (discovery NQN), NVMe Base 2.0 §4.5. */
class NqnTest {
    @Test
    void wellKnown() {
        assertEquals("nqn.2014-08.org.nvmexpress.discovery", Nqn.DISCOVERY);
        assertTrue(Nqn.isValid(Nqn.DISCOVERY));
        assertTrue(Nqn.isDiscovery(Nqn.DISCOVERY));
        assertEquals(223, Nqn.MAX_LENGTH);
    }

    @Test
    void accepted() {
        assertTrue(Nqn.isValid("nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"));
        assertTrue(Nqn.isValid("nqn.2024-01.io.sanport:disk0"));
        assertTrue(Nqn.isValid("nqn.2016-06.io.spdk:cnode1"));
        assertTrue(Nqn.isValid("nqn.1992-08.com.netapp:sn.1234:vs.5"));
        UUID uuid = UUID.randomUUID();
        assertTrue(Nqn.isValid(Nqn.of(uuid)));
        String max = "nqn.2024-01.io.sanport:" + "x".repeat(223 - 23);
        assertEquals(223, max.length());
        assertTrue(Nqn.isValid(max));
    }

    @Test
    void rejected() {
        assertFalse(Nqn.isValid(null));
        assertFalse(Nqn.isValid(""));
        assertFalse(Nqn.isValid("testnqn"));
        assertFalse(Nqn.isValid("iqn.2024-01.io.sanport:disk0"));
        assertFalse(Nqn.isValid("nqn.24-01.io.sanport:disk0"));
        assertFalse(Nqn.isValid("nqn.2024-13.io.sanport:disk0"));
        assertFalse(Nqn.isValid("nqn.2024-01.:disk0"));
        assertFalse(Nqn.isValid("nqn.2024-01.io..sanport"));
        assertFalse(Nqn.isValid("nqn.2014-08.org.nvmexpress:uuid:not-a-uuid"));
        assertFalse(Nqn.isValid("nqn.2024-01.io.sanport:" + "x".repeat(201)));
        // 223 characters but more bytes in UTF-8
        assertFalse(Nqn.isValid("nqn.2024-01.io.sanport:" + "é".repeat(200)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Nqn.validate("testnqn"));
        assertTrue(e.getMessage().contains("nqn."), e.getMessage());
    }
}
