package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §3.9 (discovery log page entry). */
class DiscoveryLogEntryTest {
    @Test
    void entryOffsets() {
        assertEquals(1024, DiscoveryLogEntry.SIZE);
        assertEquals(0, DiscoveryLogEntry.OFFSET_TRTYPE);
        assertEquals(1, DiscoveryLogEntry.OFFSET_ADRFAM);
        assertEquals(2, DiscoveryLogEntry.OFFSET_SUBTYPE);
        assertEquals(3, DiscoveryLogEntry.OFFSET_TREQ);
        assertEquals(4, DiscoveryLogEntry.OFFSET_PORTID);
        assertEquals(6, DiscoveryLogEntry.OFFSET_CNTLID);
        assertEquals(8, DiscoveryLogEntry.OFFSET_ASQSZ);
        assertEquals(10, DiscoveryLogEntry.OFFSET_EFLAGS);
        assertEquals(32, DiscoveryLogEntry.OFFSET_TRSVCID);
        assertEquals(32, DiscoveryLogEntry.LENGTH_TRSVCID);
        assertEquals(256, DiscoveryLogEntry.OFFSET_SUBNQN);
        assertEquals(256, DiscoveryLogEntry.LENGTH_SUBNQN);
        assertEquals(512, DiscoveryLogEntry.OFFSET_TRADDR);
        assertEquals(256, DiscoveryLogEntry.LENGTH_TRADDR);
        assertEquals(768, DiscoveryLogEntry.OFFSET_TSAS);
        assertEquals(768, DiscoveryLogEntry.OFFSET_RDMA_QPTYPE);
        assertEquals(769, DiscoveryLogEntry.OFFSET_RDMA_PRTYPE);
        assertEquals(770, DiscoveryLogEntry.OFFSET_RDMA_CMS);
        assertEquals(776, DiscoveryLogEntry.OFFSET_RDMA_PKEY);
        assertEquals(768, DiscoveryLogEntry.OFFSET_TCP_SECTYPE);
    }

    @Test
    void entryValues() {
        assertEquals(1, DiscoveryLogEntry.TRTYPE_RDMA);
        assertEquals(3, DiscoveryLogEntry.TRTYPE_TCP);
        assertEquals(254, DiscoveryLogEntry.TRTYPE_LOOP);
        assertEquals(1, DiscoveryLogEntry.ADRFAM_IPV4);
        assertEquals(2, DiscoveryLogEntry.ADRFAM_IPV6);
        assertEquals(1, DiscoveryLogEntry.SUBTYPE_REFERRAL);
        assertEquals(2, DiscoveryLogEntry.SUBTYPE_NVME);
        assertEquals(3, DiscoveryLogEntry.SUBTYPE_CURRENT_DISCOVERY);
        assertEquals(0x04, DiscoveryLogEntry.TREQ_DISABLE_SQFLOW);
        assertEquals(4, DiscoveryLogEntry.RDMA_PRTYPE_ROCEV2);
        assertEquals(2, DiscoveryLogEntry.TCP_SECTYPE_TLS13);
    }

    @Test
    void tcpEntryRoundTrip() {
        MemorySegment s = misaligned(DiscoveryLogEntry.SIZE);
        DiscoveryLogEntry.trtype(s, DiscoveryLogEntry.TRTYPE_TCP);
        DiscoveryLogEntry.adrfam(s, DiscoveryLogEntry.ADRFAM_IPV4);
        DiscoveryLogEntry.subtype(s, DiscoveryLogEntry.SUBTYPE_NVME);
        DiscoveryLogEntry.treq(s, DiscoveryLogEntry.TREQ_DISABLE_SQFLOW);
        DiscoveryLogEntry.portid(s, 1);
        DiscoveryLogEntry.cntlid(s, DiscoveryLogEntry.CNTLID_DYNAMIC);
        DiscoveryLogEntry.asqsz(s, 32);
        DiscoveryLogEntry.trsvcid(s, "4420");
        DiscoveryLogEntry.subnqn(s, "nqn.2024-01.io.sanport:disk0");
        DiscoveryLogEntry.traddr(s, "192.168.1.10");
        DiscoveryLogEntry.tcpSectype(s, DiscoveryLogEntry.TCP_SECTYPE_NONE);
        assertBytes("03" + "01" + "02" + "04" + "0100" + "ffff" + "2000" + "0000", s, 0);
        assertBytes("34343230" + "20".repeat(28), s, 32);
        assertEquals("4420", DiscoveryLogEntry.trsvcid(s));
        assertEquals("192.168.1.10", DiscoveryLogEntry.traddr(s));
        assertEquals("nqn.2024-01.io.sanport:disk0", DiscoveryLogEntry.subnqn(s));
        assertEquals(0xFFFF, DiscoveryLogEntry.cntlid(s));
    }

    @Test
    void rdmaTsas() {
        MemorySegment s = misaligned(DiscoveryLogEntry.SIZE);
        DiscoveryLogEntry.rdmaQptype(s, DiscoveryLogEntry.RDMA_QPTYPE_CONNECTED);
        DiscoveryLogEntry.rdmaPrtype(s, DiscoveryLogEntry.RDMA_PRTYPE_ROCEV2);
        DiscoveryLogEntry.rdmaCms(s, DiscoveryLogEntry.RDMA_CMS_RDMA_CM);
        DiscoveryLogEntry.rdmaPkey(s, 0xFFFF);
        assertBytes("010401" + "0000000000" + "ffff", s, 768);
        assertEquals(0xFFFF, DiscoveryLogEntry.rdmaPkey(s));
        assertEquals(1, DiscoveryLogEntry.rdmaCms(s));
    }
}
