package io.sanport.client;

import io.sanport.nvme.Status;
import java.io.IOException;

/** A command the controller completed with a non-zero NVMe status; the message names the command and the status in words. */
public class NvmeException extends IOException {
    private final int status;
    private final int result;

    public NvmeException(String command, int statusWord, int result) {
        super(command + " failed: " + Status.describe(statusWord));
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

    /** CQE DW0; for a failed Connect, the offending field's offset (IPO) and IATTR. */
    public int result() {
        return result;
    }
}
