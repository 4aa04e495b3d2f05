package io.sanport.nvme;

import org.junit.jupiter.api.Test;

import static io.sanport.nvme.Status.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Expected values: nvmeof.md §1.3 and the "Status codes to return" table of §4 (Linux const, wire). */
class StatusTest {
    @Test
    void codesMatchLinuxConstants() {
        assertEquals(0x000, SUCCESS);
        assertEquals(0x001, INVALID_OPCODE);
        assertEquals(0x002, INVALID_FIELD);
        assertEquals(0x003, CID_CONFLICT);
        assertEquals(0x004, DATA_XFER_ERROR);
        assertEquals(0x006, INTERNAL);
        assertEquals(0x007, ABORT_REQ);
        assertEquals(0x008, ABORT_QUEUE);
        assertEquals(0x00B, INVALID_NS);
        assertEquals(0x00C, CMD_SEQ_ERROR);
        assertEquals(0x00D, SGL_INVALID_LAST);
        assertEquals(0x00E, SGL_INVALID_COUNT);
        assertEquals(0x00F, SGL_INVALID_DATA);
        assertEquals(0x010, SGL_INVALID_METADATA);
        assertEquals(0x011, SGL_INVALID_TYPE);
        assertEquals(0x016, SGL_INVALID_OFFSET);
        assertEquals(0x01A, KEEP_ALIVE_INVALID);
        assertEquals(0x020, NS_WRITE_PROTECTED);
        assertEquals(0x022, TRANSIENT_TRANSPORT);
        assertEquals(0x080, LBA_RANGE);
        assertEquals(0x081, CAP_EXCEEDED);
        assertEquals(0x082, NS_NOT_READY);
        assertEquals(0x083, RESERVATION_CONFLICT);
        assertEquals(0x101, INVALID_QID);
        assertEquals(0x102, QUEUE_SIZE);
        assertEquals(0x105, ASYNC_LIMIT);
        assertEquals(0x109, INVALID_LOG_PAGE);
        assertEquals(0x10E, FEATURE_NOT_CHANGEABLE);
        assertEquals(0x180, CONNECT_FORMAT);
        assertEquals(0x181, CONNECT_CTRL_BUSY);
        assertEquals(0x182, CONNECT_INVALID_PARAM);
        assertEquals(0x183, CONNECT_RESTART_DISC);
        assertEquals(0x184, CONNECT_INVALID_HOST);
        assertEquals(0x190, DISCOVERY_RESTART);
        assertEquals(0x191, AUTH_REQUIRED);
        assertEquals(0x182, READ_ONLY);
        assertEquals(0x280, WRITE_FAULT);
        assertEquals(0x281, READ_ERROR);
        assertEquals(0x286, ACCESS_DENIED);
    }

    @Test
    void wireWordsFromTheFactSheet() {
        assertEquals(0x0000, word(SUCCESS));
        assertEquals(0x8002, word(INVALID_OPCODE));
        assertEquals(0x8004, word(INVALID_FIELD));
        assertEquals(0x8006, word(CID_CONFLICT));
        assertEquals(0x0008, word(DATA_XFER_ERROR));
        assertEquals(0x800C, word(INTERNAL));
        assertEquals(0x8016, word(INVALID_NS));
        assertEquals(0x8018, word(CMD_SEQ_ERROR));
        assertEquals(0x801E, word(SGL_INVALID_DATA));
        assertEquals(0x8022, word(SGL_INVALID_TYPE));
        assertEquals(0x802C, word(SGL_INVALID_OFFSET));
        assertEquals(0x8034, word(KEEP_ALIVE_INVALID));
        assertEquals(0x8040, word(NS_WRITE_PROTECTED));
        assertEquals(0x0044, word(TRANSIENT_TRANSPORT));
        assertEquals(0x8100, word(LBA_RANGE));
        assertEquals(0x8102, word(CAP_EXCEEDED));
        assertEquals(0x0104, word(NS_NOT_READY));
        assertEquals(0x8106, word(RESERVATION_CONFLICT));
        assertEquals(0x8202, word(INVALID_QID));
        assertEquals(0x8204, word(QUEUE_SIZE));
        assertEquals(0x820A, word(ASYNC_LIMIT));
        assertEquals(0x8212, word(INVALID_LOG_PAGE));
        assertEquals(0x821C, word(FEATURE_NOT_CHANGEABLE));
        assertEquals(0x8300, word(CONNECT_FORMAT));
        assertEquals(0x8304, word(CONNECT_INVALID_PARAM));
        assertEquals(0x8308, word(CONNECT_INVALID_HOST));
        assertEquals(0x8320, word(DISCOVERY_RESTART));
        assertEquals(0x8322, word(AUTH_REQUIRED));
        assertEquals(0x0500, word(WRITE_FAULT));
        assertEquals(0x0502, word(READ_ERROR));
        assertEquals(0x850C, word(ACCESS_DENIED));
    }

    @Test
    void linuxFormIsTheWireWordShiftedRight() {
        // Linux keeps status >> 1: NVME_SC_DNR 0x4000 | NVME_SC_INVALID_FIELD
        assertEquals(0x4002, word(INVALID_FIELD, true) >> 1);
        assertEquals(0x4286, word(ACCESS_DENIED, true) >> 1);
    }

    @Test
    void encodeDecode() {
        int w = encode(SCT_MEDIA, 0x81, 2, true, true, 1);
        assertEquals(0x8000 | 0x4000 | 2 << 12 | 2 << 9 | 0x81 << 1 | 1, w);
        assertEquals(1, phase(w));
        assertEquals(0x81, sc(w));
        assertEquals(SCT_MEDIA, sct(w));
        assertEquals(2, crd(w));
        assertTrue(more(w));
        assertTrue(dnr(w));
        assertEquals(READ_ERROR, code(w));
        assertFalse(isSuccess(w));
        assertTrue(isSuccess(PHASE));

        for (int sct = 0; sct < 8; sct++) {
            for (int sc = 0; sc < 256; sc += 17) {
                int x = encode(sct, sc, 0, false, false, 0);
                assertEquals(sct, sct(x));
                assertEquals(sc, sc(x));
                assertEquals(sct << 8 | sc, code(x));
                assertEquals(x, word(code(x), false));
            }
        }
    }

    @Test
    void describe() {
        assertEquals("Invalid Field in Command (sct 0x0 sc 0x02, DNR)", Status.describe(0x8004));
        assertEquals("Successful Completion (sct 0x0 sc 0x00)", Status.describe(0));
        assertEquals("Connect Invalid Parameters (sct 0x1 sc 0x82, DNR)", Status.describe(word(CONNECT_INVALID_PARAM)));
        assertEquals("Unrecovered Read Error (sct 0x2 sc 0x81, CRD 1, More)",
                Status.describe(encode(SCT_MEDIA, 0x81, 1, true, false, 0)));
        assertEquals("Unknown Status (sct 0x7 sc 0xc0)", Status.describe(encode(SCT_VENDOR, 0xC0, 0, false, false, 0)));
    }
}
