package io.sanport.nvme;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U32;
import static io.sanport.nvme.Wire.U64;
import static io.sanport.nvme.Wire.U8;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/** SMART / Health Information log (LID 0x02), NVMe Base 2.0 §5.16.1.3 (512 B); libnvme {@code struct nvme_smart_log}. */
public final class SmartLog {
    public static final int CRITICAL_SPARE = 1 << 0;
    public static final int CRITICAL_TEMPERATURE = 1 << 1;
    public static final int CRITICAL_DEGRADED = 1 << 2;
    public static final int CRITICAL_READ_ONLY = 1 << 3;
    public static final int CRITICAL_VOLATILE_BACKUP = 1 << 4;
    public static final int CRITICAL_PMR_READ_ONLY = 1 << 5;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("critical_warning"),
            U16.withName("temperature"),
            U8.withName("avail_spare"),
            U8.withName("spare_thresh"),
            U8.withName("percent_used"),
            U8.withName("endu_grp_crit_warn_sumry"),
            MemoryLayout.paddingLayout(25),
            MemoryLayout.sequenceLayout(2, U64).withName("data_units_read"),
            MemoryLayout.sequenceLayout(2, U64).withName("data_units_written"),
            MemoryLayout.sequenceLayout(2, U64).withName("host_reads"),
            MemoryLayout.sequenceLayout(2, U64).withName("host_writes"),
            MemoryLayout.sequenceLayout(2, U64).withName("ctrl_busy_time"),
            MemoryLayout.sequenceLayout(2, U64).withName("power_cycles"),
            MemoryLayout.sequenceLayout(2, U64).withName("power_on_hours"),
            MemoryLayout.sequenceLayout(2, U64).withName("unsafe_shutdowns"),
            MemoryLayout.sequenceLayout(2, U64).withName("media_errors"),
            MemoryLayout.sequenceLayout(2, U64).withName("num_err_log_entries"),
            U32.withName("warning_temp_time"),
            U32.withName("critical_comp_time"),
            MemoryLayout.sequenceLayout(16, U8).withName("temp_sensor"),
            MemoryLayout.paddingLayout(296)
    ).withName("nvme_smart_log");

    public static final long SIZE = LAYOUT.byteSize();
    public static final long OFFSET_CRITICAL_WARNING = LAYOUT.byteOffset(groupElement("critical_warning"));
    public static final long OFFSET_TEMPERATURE = LAYOUT.byteOffset(groupElement("temperature"));
    public static final long OFFSET_AVAILABLE_SPARE = LAYOUT.byteOffset(groupElement("avail_spare"));
    public static final long OFFSET_AVAILABLE_SPARE_THRESHOLD = LAYOUT.byteOffset(groupElement("spare_thresh"));
    public static final long OFFSET_PERCENTAGE_USED = LAYOUT.byteOffset(groupElement("percent_used"));
    public static final long OFFSET_ENDURANCE_GROUP_CRITICAL_WARNING = LAYOUT.byteOffset(groupElement("endu_grp_crit_warn_sumry"));
    public static final long OFFSET_DATA_UNITS_READ = LAYOUT.byteOffset(groupElement("data_units_read"));
    public static final long OFFSET_DATA_UNITS_WRITTEN = LAYOUT.byteOffset(groupElement("data_units_written"));
    public static final long OFFSET_HOST_READ_COMMANDS = LAYOUT.byteOffset(groupElement("host_reads"));
    public static final long OFFSET_HOST_WRITE_COMMANDS = LAYOUT.byteOffset(groupElement("host_writes"));
    public static final long OFFSET_CONTROLLER_BUSY_TIME = LAYOUT.byteOffset(groupElement("ctrl_busy_time"));
    public static final long OFFSET_POWER_CYCLES = LAYOUT.byteOffset(groupElement("power_cycles"));
    public static final long OFFSET_POWER_ON_HOURS = LAYOUT.byteOffset(groupElement("power_on_hours"));
    public static final long OFFSET_UNSAFE_SHUTDOWNS = LAYOUT.byteOffset(groupElement("unsafe_shutdowns"));
    public static final long OFFSET_MEDIA_ERRORS = LAYOUT.byteOffset(groupElement("media_errors"));
    public static final long OFFSET_ERROR_LOG_ENTRIES = LAYOUT.byteOffset(groupElement("num_err_log_entries"));
    public static final long OFFSET_WARNING_TEMPERATURE_TIME = LAYOUT.byteOffset(groupElement("warning_temp_time"));
    public static final long OFFSET_CRITICAL_TEMPERATURE_TIME = LAYOUT.byteOffset(groupElement("critical_comp_time"));
    public static final long OFFSET_TEMPERATURE_SENSORS = LAYOUT.byteOffset(groupElement("temp_sensor"));
    public static final int LENGTH_TEMPERATURE_SENSORS = 16;

    private SmartLog() {}

    public static int criticalWarning(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_CRITICAL_WARNING)); }
    public static void criticalWarning(MemorySegment s, int v) { s.set(U8, OFFSET_CRITICAL_WARNING, (byte) v); }

    // Kelvin; an unaligned u8[2] in C
    public static int temperature(MemorySegment s) { return Short.toUnsignedInt(s.get(U16, OFFSET_TEMPERATURE)); }
    public static void temperature(MemorySegment s, int v) { s.set(U16, OFFSET_TEMPERATURE, (short) v); }

    public static int availableSpare(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_AVAILABLE_SPARE)); }
    public static void availableSpare(MemorySegment s, int v) { s.set(U8, OFFSET_AVAILABLE_SPARE, (byte) v); }

    public static int availableSpareThreshold(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_AVAILABLE_SPARE_THRESHOLD)); }
    public static void availableSpareThreshold(MemorySegment s, int v) { s.set(U8, OFFSET_AVAILABLE_SPARE_THRESHOLD, (byte) v); }

    public static int percentageUsed(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_PERCENTAGE_USED)); }
    public static void percentageUsed(MemorySegment s, int v) { s.set(U8, OFFSET_PERCENTAGE_USED, (byte) v); }

    public static int enduranceGroupCriticalWarning(MemorySegment s) { return Byte.toUnsignedInt(s.get(U8, OFFSET_ENDURANCE_GROUP_CRITICAL_WARNING)); }
    public static void enduranceGroupCriticalWarning(MemorySegment s, int v) { s.set(U8, OFFSET_ENDURANCE_GROUP_CRITICAL_WARNING, (byte) v); }

    // thousands of 512-byte units
    /** Low 64 bits of the 128-bit counter; dataUnitsReadHigh gives the rest. */
    public static long dataUnitsRead(MemorySegment s) { return s.get(U64, OFFSET_DATA_UNITS_READ); }
    public static long dataUnitsReadHigh(MemorySegment s) { return s.get(U64, OFFSET_DATA_UNITS_READ + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void dataUnitsRead(MemorySegment s, long v) { s.set(U64, OFFSET_DATA_UNITS_READ, v); s.set(U64, OFFSET_DATA_UNITS_READ + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; dataUnitsWrittenHigh gives the rest. */
    public static long dataUnitsWritten(MemorySegment s) { return s.get(U64, OFFSET_DATA_UNITS_WRITTEN); }
    public static long dataUnitsWrittenHigh(MemorySegment s) { return s.get(U64, OFFSET_DATA_UNITS_WRITTEN + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void dataUnitsWritten(MemorySegment s, long v) { s.set(U64, OFFSET_DATA_UNITS_WRITTEN, v); s.set(U64, OFFSET_DATA_UNITS_WRITTEN + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; hostReadCommandsHigh gives the rest. */
    public static long hostReadCommands(MemorySegment s) { return s.get(U64, OFFSET_HOST_READ_COMMANDS); }
    public static long hostReadCommandsHigh(MemorySegment s) { return s.get(U64, OFFSET_HOST_READ_COMMANDS + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void hostReadCommands(MemorySegment s, long v) { s.set(U64, OFFSET_HOST_READ_COMMANDS, v); s.set(U64, OFFSET_HOST_READ_COMMANDS + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; hostWriteCommandsHigh gives the rest. */
    public static long hostWriteCommands(MemorySegment s) { return s.get(U64, OFFSET_HOST_WRITE_COMMANDS); }
    public static long hostWriteCommandsHigh(MemorySegment s) { return s.get(U64, OFFSET_HOST_WRITE_COMMANDS + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void hostWriteCommands(MemorySegment s, long v) { s.set(U64, OFFSET_HOST_WRITE_COMMANDS, v); s.set(U64, OFFSET_HOST_WRITE_COMMANDS + 8, 0L); }

    // minutes
    /** Low 64 bits of the 128-bit counter; controllerBusyTimeHigh gives the rest. */
    public static long controllerBusyTime(MemorySegment s) { return s.get(U64, OFFSET_CONTROLLER_BUSY_TIME); }
    public static long controllerBusyTimeHigh(MemorySegment s) { return s.get(U64, OFFSET_CONTROLLER_BUSY_TIME + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void controllerBusyTime(MemorySegment s, long v) { s.set(U64, OFFSET_CONTROLLER_BUSY_TIME, v); s.set(U64, OFFSET_CONTROLLER_BUSY_TIME + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; powerCyclesHigh gives the rest. */
    public static long powerCycles(MemorySegment s) { return s.get(U64, OFFSET_POWER_CYCLES); }
    public static long powerCyclesHigh(MemorySegment s) { return s.get(U64, OFFSET_POWER_CYCLES + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void powerCycles(MemorySegment s, long v) { s.set(U64, OFFSET_POWER_CYCLES, v); s.set(U64, OFFSET_POWER_CYCLES + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; powerOnHoursHigh gives the rest. */
    public static long powerOnHours(MemorySegment s) { return s.get(U64, OFFSET_POWER_ON_HOURS); }
    public static long powerOnHoursHigh(MemorySegment s) { return s.get(U64, OFFSET_POWER_ON_HOURS + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void powerOnHours(MemorySegment s, long v) { s.set(U64, OFFSET_POWER_ON_HOURS, v); s.set(U64, OFFSET_POWER_ON_HOURS + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; unsafeShutdownsHigh gives the rest. */
    public static long unsafeShutdowns(MemorySegment s) { return s.get(U64, OFFSET_UNSAFE_SHUTDOWNS); }
    public static long unsafeShutdownsHigh(MemorySegment s) { return s.get(U64, OFFSET_UNSAFE_SHUTDOWNS + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void unsafeShutdowns(MemorySegment s, long v) { s.set(U64, OFFSET_UNSAFE_SHUTDOWNS, v); s.set(U64, OFFSET_UNSAFE_SHUTDOWNS + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; mediaErrorsHigh gives the rest. */
    public static long mediaErrors(MemorySegment s) { return s.get(U64, OFFSET_MEDIA_ERRORS); }
    public static long mediaErrorsHigh(MemorySegment s) { return s.get(U64, OFFSET_MEDIA_ERRORS + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void mediaErrors(MemorySegment s, long v) { s.set(U64, OFFSET_MEDIA_ERRORS, v); s.set(U64, OFFSET_MEDIA_ERRORS + 8, 0L); }

    /** Low 64 bits of the 128-bit counter; errorLogEntriesHigh gives the rest. */
    public static long errorLogEntries(MemorySegment s) { return s.get(U64, OFFSET_ERROR_LOG_ENTRIES); }
    public static long errorLogEntriesHigh(MemorySegment s) { return s.get(U64, OFFSET_ERROR_LOG_ENTRIES + 8); }
    /** Sets the counter to the unsigned 64-bit value {@code v}. */
    public static void errorLogEntries(MemorySegment s, long v) { s.set(U64, OFFSET_ERROR_LOG_ENTRIES, v); s.set(U64, OFFSET_ERROR_LOG_ENTRIES + 8, 0L); }

    public static long warningTemperatureTime(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_WARNING_TEMPERATURE_TIME)); }
    public static void warningTemperatureTime(MemorySegment s, long v) { s.set(U32, OFFSET_WARNING_TEMPERATURE_TIME, (int) v); }

    public static long criticalTemperatureTime(MemorySegment s) { return Integer.toUnsignedLong(s.get(U32, OFFSET_CRITICAL_TEMPERATURE_TIME)); }
    public static void criticalTemperatureTime(MemorySegment s, long v) { s.set(U32, OFFSET_CRITICAL_TEMPERATURE_TIME, (int) v); }

    public static MemorySegment temperatureSensors(MemorySegment s) { return s.asSlice(OFFSET_TEMPERATURE_SENSORS, LENGTH_TEMPERATURE_SENSORS); }
}
