package io.sanport.bindings;

import java.io.IOException;

/** A failed system or library call on the control path: what was called, on what, and errno in words. */
public class ErrnoException extends IOException {
    private final int errno;

    public ErrnoException(String call, Object subject, int errno) {
        this(call, subject, errno, null);
    }

    public ErrnoException(String call, Object subject, int errno, String hint) {
        super(call + (subject == null ? "" : " " + subject) + ": " + Errno.describe(errno)
                + (hint == null ? "" : ". " + hint));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
