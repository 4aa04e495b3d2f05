package io.sanport.nvme.tls;

import java.io.InputStream;
import java.io.OutputStream;

/** One side of a TLS relay: blocking streams over a socket and a way to wake its blocked reader and writer. */
public interface TlsEndpoint {
    InputStream in();

    OutputStream out();

    /** shutdown(SHUT_RDWR): a blocked read returns end of stream; never throws. */
    void shutdown();
}
