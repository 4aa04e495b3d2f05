package io.sanport.hostdriver;

import io.sanport.nvme.Status;
import io.sanport.nvme.SubmissionQueueEntry;
import io.sanport.nvme.fabrics.ConnectCommand;
import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.FabricsCommand;
import io.sanport.nvme.fabrics.Property;
import io.sanport.nvme.fabrics.PropertyGetCommand;
import io.sanport.nvme.fabrics.PropertySetCommand;
import java.lang.foreign.MemorySegment;

/**
 * Fabrics commands (opcode 0x7F): Connect on a new queue, Property Get/Set on the admin queue; the checks
 * and statuses of Linux nvmet's {@code fabrics-cmd.c}.
 */
final class Fabrics {
    private Fabrics() {}

    /** The only command a queue takes before its Connect is a Connect (nvmet {@code nvmet_parse_connect_cmd}). */
    static int parseConnect(Request r) {
        MemorySegment sqe = r.sqe;
        if (r.opcode() != FabricsCommand.OPCODE) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_OPCODE;
            return Status.INVALID_OPCODE;
        }
        if (FabricsCommand.fctype(sqe) != FabricsCommand.FCTYPE_CONNECT) {
            r.errorLocation = (int) FabricsCommand.OFFSET_FCTYPE;
            return Status.INVALID_OPCODE;
        }
        r.hostToController = true;
        return expect(r, ConnectData.SIZE);
    }

    /**
     * What a queue that must authenticate takes before it has: the authentication commands, and Property Get
     * on the admin queue (everything else: Authentication Required, as nvmet's {@code nvmet_check_auth_status}).
     */
    static boolean allowedBeforeAuthentication(Request r) {
        if (r.opcode() != FabricsCommand.OPCODE) {
            return false;
        }
        int fctype = FabricsCommand.fctype(r.sqe);
        return fctype == FabricsCommand.FCTYPE_AUTH_SEND || fctype == FabricsCommand.FCTYPE_AUTH_RECEIVE
                || fctype == FabricsCommand.FCTYPE_PROPERTY_GET;
    }

    /** Fabrics commands on a connected queue: authentication on any, Property Get/Set on the admin queue only. */
    static int parse(Request r, int qid) {
        int fctype = FabricsCommand.fctype(r.sqe);
        if (fctype == FabricsCommand.FCTYPE_CONNECT) {
            r.errorLocation = (int) FabricsCommand.OFFSET_FCTYPE;
            return Status.CMD_SEQ_ERROR; // this queue is connected already
        }
        if (fctype == FabricsCommand.FCTYPE_AUTH_SEND || fctype == FabricsCommand.FCTYPE_AUTH_RECEIVE) {
            if (r.queue.auth() == null) {
                r.errorLocation = (int) FabricsCommand.OFFSET_FCTYPE;
                return Status.INVALID_OPCODE; // its controller does not authenticate
            }
            return QueueAuth.parse(r, fctype == FabricsCommand.FCTYPE_AUTH_SEND);
        }
        if (qid != 0 || (fctype != FabricsCommand.FCTYPE_PROPERTY_GET && fctype != FabricsCommand.FCTYPE_PROPERTY_SET)) {
            r.errorLocation = (int) FabricsCommand.OFFSET_FCTYPE;
            return Status.INVALID_OPCODE;
        }
        return expect(r, 0);
    }

    /** nvmet {@code nvmet_check_transfer_len}: SGL1 must describe exactly what the command moves. */
    static int expect(Request r, long length) {
        if (r.dataLength != length) {
            r.errorLocation = (int) SubmissionQueueEntry.OFFSET_DPTR;
            return Status.SGL_INVALID_DATA;
        }
        return Status.SUCCESS;
    }

    static void execute(Request r) {
        QueuePair q = r.queue;
        switch (FabricsCommand.fctype(r.sqe)) {
            case FabricsCommand.FCTYPE_CONNECT -> connect(r);
            case FabricsCommand.FCTYPE_PROPERTY_GET -> propertyGet(r, q.controller());
            case FabricsCommand.FCTYPE_AUTH_SEND, FabricsCommand.FCTYPE_AUTH_RECEIVE -> {
                if (q.auth().start(r, FabricsCommand.fctype(r.sqe) == FabricsCommand.FCTYPE_AUTH_SEND)) {
                    return; // its DH math runs off the reactor; it completes from there
                }
            }
            case FabricsCommand.FCTYPE_PROPERTY_SET -> {
                if (propertySet(r, q.controller())) {
                    return; // a shutdown: completes after its flushes
                }
            }
            default -> r.fail(Status.INVALID_OPCODE, (int) FabricsCommand.OFFSET_FCTYPE);
        }
        q.complete(r);
    }

    static int failConnect(Request r, int code, int offset, boolean inData) {
        r.status = code;
        r.errorLocation = offset;
        r.dw0 = ConnectCommand.invalidParameterDw0(offset, inData);
        return code;
    }

    /**
     * Connect (NVMe-oF 1.1 §3.3; nvmet {@code nvmet_execute_admin_connect} / {@code _io_connect}): the command's
     * own fields here, the admission (subsystem, host, controller) in the {@link ConnectionManager}.
     */
    private static void connect(Request r) {
        MemorySegment sqe = r.sqe;
        QueuePair q = r.queue;
        if (ConnectCommand.recfmt(sqe) != ConnectCommand.RECFMT_0) {
            failConnect(r, Status.CONNECT_FORMAT, (int) ConnectCommand.OFFSET_RECFMT, false);
            return;
        }
        int qid = ConnectCommand.qid(sqe);
        int sqsize = ConnectCommand.sqsize(sqe);
        boolean sqFlowDisabled = (ConnectCommand.cattr(sqe) & ConnectCommand.CATTR_DISABLE_SQFLOW) != 0;
        if (sqsize == 0 || sqsize + 1 > q.transport.maxQueueSize()) {
            failConnect(r, Status.CONNECT_INVALID_PARAM, (int) ConnectCommand.OFFSET_SQSIZE, false);
            return;
        }
        q.target.connections().admit(r, qid, sqsize, sqFlowDisabled);
    }

    private static void propertyGet(Request r, Controller c) {
        MemorySegment sqe = r.sqe;
        int offset = PropertyGetCommand.ofst(sqe);
        boolean eight = (PropertyGetCommand.attrib(sqe) & PropertyGetCommand.ATTRIB_SIZE_MASK) == PropertyGetCommand.ATTRIB_SIZE_8;
        long value;
        if (eight) {
            if (offset != Property.CAP) {
                r.fail(Status.INVALID_FIELD, (int) PropertyGetCommand.OFFSET_OFST);
                return;
            }
            value = Controller.CAP;
        } else {
            switch (offset) {
                case Property.VS -> value = Controller.VS;
                case Property.CC -> value = c.cc();
                case Property.CSTS -> value = c.csts();
                default -> {
                    r.fail(Status.INVALID_FIELD, (int) PropertyGetCommand.OFFSET_OFST);
                    return;
                }
            }
        }
        r.dw0 = (int) value;
        r.dw1 = (int) (value >>> 32);
    }

    /** True when {@code r} completes later (CC.SHN flushes first). */
    private static boolean propertySet(Request r, Controller c) {
        MemorySegment sqe = r.sqe;
        boolean eight = (PropertySetCommand.attrib(sqe) & PropertyGetCommand.ATTRIB_SIZE_MASK) == PropertyGetCommand.ATTRIB_SIZE_8;
        if (eight || PropertySetCommand.ofst(sqe) != Property.CC) {
            r.fail(Status.INVALID_FIELD, (int) PropertySetCommand.OFFSET_OFST);
            return false;
        }
        return c.updateCc((int) PropertySetCommand.value(sqe), r);
    }
}
