package io.sanport.nvme;

/**
 * The 16-bit status word of a CQE (bytes 14-15), NVMe Base 2.0 §4.2.3:
 * {@code DNR<<15 | M<<14 | CRD<<12 | SCT<<9 | SC<<1 | P}.
 * <p>
 * Status codes below are {@code SCT<<8 | SC}, the form of Linux's {@code NVME_SC_*} constants without the
 * DNR/More/CRD bits, so one int names a status unambiguously within its command set. {@link #word} turns one into
 * the wire value.
 */
public final class Status {

    public static final int PHASE = 1;
    public static final int SC_SHIFT = 1;
    public static final int SC_MASK = 0xFF << SC_SHIFT;
    public static final int SCT_SHIFT = 9;
    public static final int SCT_MASK = 0x7 << SCT_SHIFT;
    public static final int CRD_SHIFT = 12;
    public static final int CRD_MASK = 0x3 << CRD_SHIFT;
    public static final int MORE = 1 << 14;
    public static final int DNR = 1 << 15;

    public static final int SCT_GENERIC = 0x0;
    public static final int SCT_COMMAND_SPECIFIC = 0x1;
    public static final int SCT_MEDIA = 0x2;
    public static final int SCT_PATH = 0x3;
    public static final int SCT_VENDOR = 0x7;

    // Generic command status (SCT 0)
    public static final int SUCCESS = 0x000;
    public static final int INVALID_OPCODE = 0x001;
    public static final int INVALID_FIELD = 0x002;
    public static final int CID_CONFLICT = 0x003;
    public static final int DATA_XFER_ERROR = 0x004;
    public static final int POWER_LOSS = 0x005;
    public static final int INTERNAL = 0x006;
    public static final int ABORT_REQ = 0x007;
    public static final int ABORT_QUEUE = 0x008;
    public static final int FUSED_FAIL = 0x009;
    public static final int FUSED_MISSING = 0x00A;
    public static final int INVALID_NS = 0x00B;
    public static final int CMD_SEQ_ERROR = 0x00C;
    public static final int SGL_INVALID_LAST = 0x00D;
    public static final int SGL_INVALID_COUNT = 0x00E;
    public static final int SGL_INVALID_DATA = 0x00F;
    public static final int SGL_INVALID_METADATA = 0x010;
    public static final int SGL_INVALID_TYPE = 0x011;
    public static final int SGL_INVALID_OFFSET = 0x016;
    public static final int HOST_ID_INCONSISTENT = 0x018;
    public static final int KEEP_ALIVE_EXPIRED = 0x019;
    public static final int KEEP_ALIVE_INVALID = 0x01A;
    public static final int SGL_INVALID_GRANULARITY = 0x01E;
    public static final int NS_WRITE_PROTECTED = 0x020;
    public static final int CMD_INTERRUPTED = 0x021;
    public static final int TRANSIENT_TRANSPORT = 0x022;
    public static final int LBA_RANGE = 0x080;
    public static final int CAP_EXCEEDED = 0x081;
    public static final int NS_NOT_READY = 0x082;
    public static final int RESERVATION_CONFLICT = 0x083;
    public static final int FORMAT_IN_PROGRESS = 0x084;

    // Command specific status (SCT 1), admin commands
    public static final int CQ_INVALID = 0x100;
    public static final int INVALID_QID = 0x101;
    public static final int QUEUE_SIZE = 0x102;
    public static final int ABORT_LIMIT = 0x103;
    public static final int ASYNC_LIMIT = 0x105;
    public static final int INVALID_LOG_PAGE = 0x109;
    public static final int INVALID_FORMAT = 0x10A;
    public static final int FEATURE_NOT_SAVEABLE = 0x10D;
    public static final int FEATURE_NOT_CHANGEABLE = 0x10E;
    public static final int FEATURE_NOT_PER_NS = 0x10F;
    public static final int INVALID_IO_CMD_SET = 0x12C;

    // Command specific status (SCT 1), fabrics commands
    public static final int CONNECT_FORMAT = 0x180;
    public static final int CONNECT_CTRL_BUSY = 0x181;
    public static final int CONNECT_INVALID_PARAM = 0x182;
    public static final int CONNECT_RESTART_DISC = 0x183;
    public static final int CONNECT_INVALID_HOST = 0x184;
    public static final int DISCOVERY_RESTART = 0x190;
    public static final int AUTH_REQUIRED = 0x191;

    // Command specific status (SCT 1), NVM command set I/O: the same codes as Connect's, told apart by the opcode
    public static final int CONFLICTING_ATTRIBUTES = 0x180;
    public static final int INVALID_PI = 0x181;
    public static final int READ_ONLY = 0x182;

    // Media and data integrity errors (SCT 2)
    public static final int WRITE_FAULT = 0x280;
    public static final int READ_ERROR = 0x281;
    public static final int GUARD_CHECK = 0x282;
    public static final int APPTAG_CHECK = 0x283;
    public static final int REFTAG_CHECK = 0x284;
    public static final int COMPARE_FAILED = 0x285;
    public static final int ACCESS_DENIED = 0x286;
    public static final int UNWRITTEN_BLOCK = 0x287;

    // Path related status (SCT 3)
    public static final int ANA_PERSISTENT_LOSS = 0x301;
    public static final int ANA_INACCESSIBLE = 0x302;
    public static final int ANA_TRANSITION = 0x303;
    public static final int HOST_PATH_ERROR = 0x370;

    private Status() {}

    /** Wire word for {@code code} (SCT<<8|SC) with phase 0, no CRD, no More. */
    public static int word(int code, boolean dnr) {
        return (code & 0x7FF) << SC_SHIFT | (dnr ? DNR : 0);
    }

    /**
     * Wire word with DNR set unless a retry can help: the Linux host retries a status without DNR up to
     * {@code nvme_core.max_retries} times, so permanent errors must carry DNR.
     */
    public static int word(int code) {
        return word(code, !retryable(code));
    }

    public static int encode(int sct, int sc, int crd, boolean more, boolean dnr, int phase) {
        return (dnr ? DNR : 0) | (more ? MORE : 0) | (crd & 0x3) << CRD_SHIFT | (sct & 0x7) << SCT_SHIFT
                | (sc & 0xFF) << SC_SHIFT | phase & PHASE;
    }

    /**
     * The transient statuses: transport hiccups, aborts and media errors that a retry or another path may clear.
     * The path-related ones (SCT 3) never carry DNR: Linux fails such a command over to another path only without it.
     */
    public static boolean retryable(int code) {
        return switch (code) {
            case SUCCESS, DATA_XFER_ERROR, ABORT_REQ, ABORT_QUEUE, CMD_INTERRUPTED, TRANSIENT_TRANSPORT, NS_NOT_READY,
                 WRITE_FAULT, READ_ERROR, ANA_PERSISTENT_LOSS, ANA_INACCESSIBLE, ANA_TRANSITION, HOST_PATH_ERROR -> true;
            default -> false;
        };
    }

    public static int phase(int word) { return word & PHASE; }
    public static int sc(int word) { return (word & SC_MASK) >>> SC_SHIFT; }
    public static int sct(int word) { return (word & SCT_MASK) >>> SCT_SHIFT; }
    public static int crd(int word) { return (word & CRD_MASK) >>> CRD_SHIFT; }
    public static boolean more(int word) { return (word & MORE) != 0; }
    public static boolean dnr(int word) { return (word & DNR) != 0; }
    /** SCT<<8 | SC, comparable with the constants above. */
    public static int code(int word) { return word >>> SC_SHIFT & 0x7FF; }
    public static boolean isSuccess(int word) { return code(word) == SUCCESS; }

    /** E.g. "Invalid Field in Command (sct 0x0 sc 0x02, DNR)". SCT 1 codes 0x80-0x84 are named as Connect's. */
    public static String describe(int word) {
        StringBuilder b = new StringBuilder(name(code(word)))
                .append(" (sct 0x").append(Integer.toHexString(sct(word)))
                .append(" sc 0x").append(String.format("%02x", sc(word)));
        if (crd(word) != 0) {
            b.append(", CRD ").append(crd(word));
        }
        if (more(word)) {
            b.append(", More");
        }
        if (dnr(word)) {
            b.append(", DNR");
        }
        return b.append(')').toString();
    }

    /** The spec's name for a status code (SCT<<8 | SC). */
    public static String name(int code) {
        return switch (code) {
            case SUCCESS -> "Successful Completion";
            case INVALID_OPCODE -> "Invalid Command Opcode";
            case INVALID_FIELD -> "Invalid Field in Command";
            case CID_CONFLICT -> "Command ID Conflict";
            case DATA_XFER_ERROR -> "Data Transfer Error";
            case POWER_LOSS -> "Commands Aborted due to Power Loss Notification";
            case INTERNAL -> "Internal Error";
            case ABORT_REQ -> "Command Abort Requested";
            case ABORT_QUEUE -> "Command Aborted due to SQ Deletion";
            case FUSED_FAIL -> "Command Aborted due to Failed Fused Command";
            case FUSED_MISSING -> "Command Aborted due to Missing Fused Command";
            case INVALID_NS -> "Invalid Namespace or Format";
            case CMD_SEQ_ERROR -> "Command Sequence Error";
            case SGL_INVALID_LAST -> "Invalid SGL Segment Descriptor";
            case SGL_INVALID_COUNT -> "Invalid Number of SGL Descriptors";
            case SGL_INVALID_DATA -> "Data SGL Length Invalid";
            case SGL_INVALID_METADATA -> "Metadata SGL Length Invalid";
            case SGL_INVALID_TYPE -> "SGL Descriptor Type Invalid";
            case SGL_INVALID_OFFSET -> "SGL Offset Invalid";
            case HOST_ID_INCONSISTENT -> "Host Identifier Inconsistent Format";
            case KEEP_ALIVE_EXPIRED -> "Keep Alive Timer Expired";
            case KEEP_ALIVE_INVALID -> "Keep Alive Timeout Invalid";
            case SGL_INVALID_GRANULARITY -> "SGL Data Block Granularity Invalid";
            case NS_WRITE_PROTECTED -> "Namespace is Write Protected";
            case CMD_INTERRUPTED -> "Command Interrupted";
            case TRANSIENT_TRANSPORT -> "Transient Transport Error";
            case LBA_RANGE -> "LBA Out of Range";
            case CAP_EXCEEDED -> "Capacity Exceeded";
            case NS_NOT_READY -> "Namespace Not Ready";
            case RESERVATION_CONFLICT -> "Reservation Conflict";
            case FORMAT_IN_PROGRESS -> "Format In Progress";
            case CQ_INVALID -> "Completion Queue Invalid";
            case INVALID_QID -> "Invalid Queue Identifier";
            case QUEUE_SIZE -> "Invalid Queue Size";
            case ABORT_LIMIT -> "Abort Command Limit Exceeded";
            case ASYNC_LIMIT -> "Asynchronous Event Request Limit Exceeded";
            case INVALID_LOG_PAGE -> "Invalid Log Page";
            case INVALID_FORMAT -> "Invalid Format";
            case FEATURE_NOT_SAVEABLE -> "Feature Identifier Not Saveable";
            case FEATURE_NOT_CHANGEABLE -> "Feature Not Changeable";
            case FEATURE_NOT_PER_NS -> "Feature Not Namespace Specific";
            case INVALID_IO_CMD_SET -> "Invalid I/O Command Set";
            case CONNECT_FORMAT -> "Connect Incompatible Format";
            case CONNECT_CTRL_BUSY -> "Connect Controller Busy";
            case CONNECT_INVALID_PARAM -> "Connect Invalid Parameters";
            case CONNECT_RESTART_DISC -> "Connect Restart Discovery";
            case CONNECT_INVALID_HOST -> "Connect Invalid Host";
            case DISCOVERY_RESTART -> "Discovery Restart";
            case AUTH_REQUIRED -> "Authentication Required";
            case WRITE_FAULT -> "Write Fault";
            case READ_ERROR -> "Unrecovered Read Error";
            case GUARD_CHECK -> "End-to-end Guard Check Error";
            case APPTAG_CHECK -> "End-to-end Application Tag Check Error";
            case REFTAG_CHECK -> "End-to-end Reference Tag Check Error";
            case COMPARE_FAILED -> "Compare Failure";
            case ACCESS_DENIED -> "Access Denied";
            case UNWRITTEN_BLOCK -> "Deallocated or Unwritten Logical Block";
            case ANA_PERSISTENT_LOSS -> "Asymmetric Access Persistent Loss";
            case ANA_INACCESSIBLE -> "Asymmetric Access Inaccessible";
            case ANA_TRANSITION -> "Asymmetric Access Transition";
            case HOST_PATH_ERROR -> "Host Pathing Error";
            default -> "Unknown Status";
        };
    }
}
