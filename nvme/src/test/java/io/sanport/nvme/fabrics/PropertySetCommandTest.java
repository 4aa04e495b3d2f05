package io.sanport.nvme.fabrics;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values: nvmeof.md §2.3 (Property Set). */
class PropertySetCommandTest {
    @Test
    void propertySet() {
        assertEquals(64, PropertySetCommand.SIZE);
        assertEquals(0, PropertySetCommand.OFFSET_OPCODE);
        assertEquals(2, PropertySetCommand.OFFSET_CID);
        assertEquals(4, PropertySetCommand.OFFSET_FCTYPE);
        assertEquals(40, PropertySetCommand.OFFSET_ATTRIB);
        assertEquals(44, PropertySetCommand.OFFSET_OFST);
        assertEquals(48, PropertySetCommand.OFFSET_VALUE);

        MemorySegment s = misaligned(PropertySetCommand.SIZE);
        PropertySetCommand.attrib(s, 0);
        PropertySetCommand.ofst(s, Property.CC);
        PropertySetCommand.value(s, 0x00460001);
        assertEquals(0x14, PropertySetCommand.ofst(s));
        assertEquals(0x00460001, PropertySetCommand.value(s));
        assertBytes("14000000" + "0100460000000000", s, 44);
    }
}
