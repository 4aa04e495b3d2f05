package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §2.3 (Property Get). */
class PropertyGetCommandTest {
    @Test
    void propertyGet() {
        assertEquals(64, PropertyGetCommand.SIZE);
        assertEquals(0, PropertyGetCommand.OFFSET_OPCODE);
        assertEquals(2, PropertyGetCommand.OFFSET_CID);
        assertEquals(4, PropertyGetCommand.OFFSET_FCTYPE);
        assertEquals(40, PropertyGetCommand.OFFSET_ATTRIB);
        assertEquals(44, PropertyGetCommand.OFFSET_OFST);

        MemorySegment s = misaligned(PropertyGetCommand.SIZE);
        PropertyGetCommand.fctype(s, FabricsCommand.FCTYPE_PROPERTY_GET);
        PropertyGetCommand.attrib(s, PropertyGetCommand.ATTRIB_SIZE_8);
        PropertyGetCommand.ofst(s, Property.CAP);
        assertEquals(8, PropertyGetCommand.sizeBytes(PropertyGetCommand.attrib(s)));
        assertEquals(4, PropertyGetCommand.sizeBytes(PropertyGetCommand.ATTRIB_SIZE_4));
        PropertyGetCommand.ofst(s, Property.CSTS);
        assertEquals(0x1C, PropertyGetCommand.ofst(s));
        assertBytes("01" + "000000" + "1c000000", s, 40);
    }
}
