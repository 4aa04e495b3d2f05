package io.sanport.nvme;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

import static io.sanport.nvme.SmartLog.*;
import static io.sanport.nvme.WireAssertions.assertBytes;
import static io.sanport.nvme.WireAssertions.misaligned;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected offsets: NVMe Base 2.0 Figure 207 / libnvme nvme_smart_log. */
class SmartLogTest {
    @Test
    void sizeAndOffsets() {
        assertEquals(512, SIZE);
        assertEquals(0, OFFSET_CRITICAL_WARNING);
        assertEquals(1, OFFSET_TEMPERATURE);
        assertEquals(3, OFFSET_AVAILABLE_SPARE);
        assertEquals(4, OFFSET_AVAILABLE_SPARE_THRESHOLD);
        assertEquals(5, OFFSET_PERCENTAGE_USED);
        assertEquals(6, OFFSET_ENDURANCE_GROUP_CRITICAL_WARNING);
        assertEquals(32, OFFSET_DATA_UNITS_READ);
        assertEquals(48, OFFSET_DATA_UNITS_WRITTEN);
        assertEquals(64, OFFSET_HOST_READ_COMMANDS);
        assertEquals(80, OFFSET_HOST_WRITE_COMMANDS);
        assertEquals(96, OFFSET_CONTROLLER_BUSY_TIME);
        assertEquals(112, OFFSET_POWER_CYCLES);
        assertEquals(128, OFFSET_POWER_ON_HOURS);
        assertEquals(144, OFFSET_UNSAFE_SHUTDOWNS);
        assertEquals(160, OFFSET_MEDIA_ERRORS);
        assertEquals(176, OFFSET_ERROR_LOG_ENTRIES);
        assertEquals(192, OFFSET_WARNING_TEMPERATURE_TIME);
        assertEquals(196, OFFSET_CRITICAL_TEMPERATURE_TIME);
        assertEquals(200, OFFSET_TEMPERATURE_SENSORS);
    }

    @Test
    void roundTrip() {
        MemorySegment s = misaligned(SIZE);
        s.asSlice(OFFSET_DATA_UNITS_READ, 16).fill((byte) 0xFF);
        criticalWarning(s, CRITICAL_SPARE | CRITICAL_READ_ONLY);
        temperature(s, 273 + 40);
        availableSpare(s, 100);
        dataUnitsRead(s, 0x0102030405060708L);
        powerOnHours(s, 5);
        unsafeShutdowns(s, -1L);
        assertEquals(9, criticalWarning(s));
        assertEquals(313, temperature(s));
        assertEquals(100, availableSpare(s));
        assertEquals(0x0102030405060708L, dataUnitsRead(s));
        assertEquals(0, dataUnitsReadHigh(s));
        assertEquals(5, powerOnHours(s));
        assertEquals(-1L, unsafeShutdowns(s));
        assertBytes("09" + "3901" + "64", s, 0);
        assertBytes("0807060504030201" + "0000000000000000", s, 32);
    }
}
