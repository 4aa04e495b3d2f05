package io.sanport.client;

import io.sanport.nvme.Status;
import java.io.IOException;

/** A command the controller completed with a non-zero NVMe status; the message names the command and the status in words. */
public class NvmeException extends IOException {
    private final int status;
    private final int result;

    public NvmeException(String command, int statusWord, int result) {
        super(command + " failed: " + Status.describe(statusWord) + (Status.sct(statusWord) == Status.SCT_PATH
                ? ": this path cannot serve it now (ANA), another path to the subsystem may" : ""));
        this.status = statusWord;
        this.result = result;
    }

    /** The CQE status word (bits 15:1 as on the wire, phase bit included). */
    public int statusWord() {
        return status;
    }

    /** SCT&lt;&lt;8 | SC, comparable with the {@link Status} constants. */
    public int statusCode() {
        return Status.code(status);
    }

    /**
     * Whether the status is path related (SCT 3: ANA inaccessible, persistent loss, transition): the command did not
     * run, and a controller of the same subsystem on another port may run it. This client drives one path; a caller
     * holding several retries there.
     */
    public boolean pathError() {
        return Status.sct(status) == Status.SCT_PATH;
    }

    /** CQE DW0; for a failed Connect, the offending field's offset (IPO) and IATTR. */
    public int result() {
        return result;
    }
}
