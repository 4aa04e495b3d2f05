/**
 * NVMe and NVMe-oF wire structures and constants, one class per structure in jextract's shape: a {@code LAYOUT},
 * {@code SIZE}, {@code OFFSET_*} constants and static accessors over a {@link java.lang.foreign.MemorySegment}
 * that starts at the structure.
 * <p>
 * Conventions: everything is little-endian and unaligned (see {@link io.sanport.nvme.Wire}). Unsigned fields widen:
 * u8 and u16 to {@code int}; u32 to {@code long} when it is a length, offset, count or time a peer controls (so a
 * hostile 0xFFFFFFFF cannot go negative in bounds checks), and to {@code int} when it is an identifier, a bit mask or
 * a raw dword; u64 stays {@code long} (compare with {@link java.lang.Long#compareUnsigned}). Numeric accessors do
 * not allocate; string, UUID and slice accessors do and are for the control path.
 */
package io.sanport.nvme;
