package io.sanport.bench.fuzz;

import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.tcp.CapsuleCommand;
import io.sanport.nvme.tcp.Crc32c;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded mutations of one valid NVMe/TCP PDU: a header or SQE field set to a value at an edge (0, 1, the sign
 * bit, all ones, near 2^63), bits flipped, the PDU cut short or grown, and, so that a mutation reaches the
 * parser rather than stopping at the digest, the header digest and PLEN often made consistent again.
 */
final class PduMutator {
    /** A field of a PDU, by byte offset and width (1, 2, 4 or 8). */
    record Field(String name, int offset, int width) {}

    static final List<Field> COMMON = List.of(new Field("type", 0, 1), new Field("flags", 1, 1),
            new Field("HLEN", 2, 1), new Field("PDO", 3, 1), new Field("PLEN", 4, 4));
    static final List<Field> IC_REQ = List.of(new Field("PFV", 8, 2), new Field("HPDA", 10, 1),
            new Field("DGST", 11, 1), new Field("MAXR2T", 12, 4));
    static final List<Field> H2C_DATA = List.of(new Field("CCCID", 8, 2), new Field("TTAG", 10, 2),
            new Field("DATAO", 12, 4), new Field("DATAL", 16, 4));
    static final List<Field> SQE = sqeFields();

    private static List<Field> sqeFields() {
        int s = (int) CapsuleCommand.OFFSET_SQE;
        int dptr = s + (int) SubmissionQueueEntry.OFFSET_DPTR;
        return List.of(new Field("opcode", s, 1), new Field("SQE flags", s + 1, 1), new Field("CID", s + 2, 2),
                new Field("NSID", s + 4, 4), new Field("MPTR", s + 16, 8),
                new Field("SGL1 address", dptr, 8), new Field("SGL1 length", dptr + 8, 4),
                new Field("SGL1 type", dptr + 15, 1), new Field("CDW10 (SLBA lo, Connect QID/SQSIZE)", s + 40, 4),
                new Field("CDW11 (SLBA hi)", s + 44, 4), new Field("NLB", s + 48, 2), new Field("CDW12", s + 48, 4),
                new Field("CDW13", s + 52, 4), new Field("CDW14", s + 56, 4), new Field("CDW15", s + 60, 4),
                new Field("fctype", s + 4, 1), new Field("Connect KATO", s + 44, 4));
    }

    private final SplittableRandom rnd;
    private final Crc32c crc = new Crc32c();

    PduMutator(SplittableRandom rnd) {
        this.rnd = rnd;
    }

    long interesting(int width, long current) {
        long max = width == 8 ? -1L : (1L << (width * 8)) - 1;
        long sign = 1L << (width * 8 - 1);
        return switch (rnd.nextInt(14)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> max;
            case 3 -> max - 1;
            case 4 -> sign;
            case 5 -> sign - 1;
            case 6 -> (current + 1) & max;
            case 7 -> (current - 1) & max;
            case 8 -> (current << 1) & max;
            case 9 -> width == 8 ? 0x7FFF_FFFF_FFFF_FC00L : max - 3;
            case 10 -> width == 8 ? (1L << 63) - 64 : (width == 4 ? 1L << 24 : max >>> 1);
            case 11 -> rnd.nextLong() & max;
            case 12 -> (long) rnd.nextInt(0, 9000) & max;
            default -> (current ^ (1L << rnd.nextInt(width * 8))) & max;
        };
    }

    static long get(byte[] b, int offset, int width) {
        long v = 0;
        for (int i = width - 1; i >= 0; i--) {
            v = v << 8 | (b[offset + i] & 0xFF);
        }
        return v;
    }

    static void put(byte[] b, int offset, int width, long v) {
        for (int i = 0; i < width; i++) {
            b[offset + i] = (byte) (v >>> (8 * i));
        }
    }

    /**
     * Returns a mutated copy of {@code pdu}, and appends to {@code log} what was done. {@code fields} are those
     * of this PDU type beyond the common header; {@code hdgst} whether the connection negotiated header digests.
     */
    byte[] mutate(byte[] pdu, List<Field> fields, boolean hdgst, StringBuilder log) {
        byte[] b = pdu.clone();
        int hlen = b.length >= 3 ? b[2] & 0xFF : 0;
        boolean plenTouched = false;
        int n = 1 + (rnd.nextInt(4) == 0 ? rnd.nextInt(3) : 0);
        for (int i = 0; i < n; i++) {
            int op = rnd.nextInt(10);
            if (op < 7) {
                List<Field> from = rnd.nextInt(3) == 0 || fields.isEmpty() ? COMMON : fields;
                Field f = from.get(rnd.nextInt(from.size()));
                if (f.offset() + f.width() > b.length) continue;
                long v = interesting(f.width(), get(b, f.offset(), f.width()));
                put(b, f.offset(), f.width(), v);
                plenTouched |= f.name().equals("PLEN");
                log.append(' ').append(f.name()).append("=0x").append(Long.toHexString(v));
            } else if (op == 7) {
                int at = rnd.nextInt(b.length);
                int bit = rnd.nextInt(8);
                b[at] ^= (byte) (1 << bit);
                plenTouched |= at >= 4 && at < 8;
                log.append(" flip byte ").append(at).append(" bit ").append(bit);
            } else if (op == 8 && b.length > 1) {
                int len = rnd.nextInt(1, b.length);
                b = java.util.Arrays.copyOf(b, len);
                log.append(" cut to ").append(len);
            } else {
                int grow = rnd.nextInt(1, 5000);
                byte[] g = java.util.Arrays.copyOf(b, b.length + grow);
                for (int j = b.length; j < g.length; j++) g[j] = (byte) rnd.nextInt(256);
                b = g;
                log.append(" grown by ").append(grow);
            }
        }
        if (!plenTouched && b.length >= 8 && rnd.nextInt(3) != 0) {
            put(b, 4, 4, b.length); // keep framing consistent so the mutation is parsed, not just framed
        }
        if (hdgst && hlen >= 8 && b.length >= hlen + 4 && rnd.nextInt(4) != 0) {
            crc.put(MemorySegment.ofArray(b), 0, hlen);
        } else if (hdgst) {
            log.append(" (stale header digest)");
        }
        return b;
    }

    /** Bytes with no NVMe/TCP meaning at all, sometimes wearing a plausible common header. */
    byte[] garbage(StringBuilder log) {
        byte[] b = new byte[rnd.nextInt(1, 600)];
        for (int i = 0; i < b.length; i++) b[i] = (byte) rnd.nextInt(256);
        if (b.length >= 8 && rnd.nextBoolean()) {
            b[0] = (byte) rnd.nextInt(10);
            b[2] = (byte) rnd.nextInt(8, 200);
            put(b, 4, 4, rnd.nextBoolean() ? b.length : rnd.nextInt());
        }
        log.append(" garbage ").append(b.length).append(" bytes type ").append(b[0] & 0xFF);
        return b;
    }
}
