package io.sanport.client;

import java.io.IOException;

/**
 * The NVMe/TCP connection of a queue broke (peer closed, socket error, digest or PDU protocol error, keep-alive
 * timeout). Every command in flight on that queue fails with it; the queue accepts no more commands.
 */
public class NvmeTransportException extends IOException {
    public NvmeTransportException(String message) {
        super(message);
    }

    public NvmeTransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
