package io.sanport.bindings;

import io.sanport.bindings.libc.Libc;

/** errno values in words: "EINVAL (Invalid argument)", as a storage engineer reads them in dmesg and strace. */
public final class Errno {
    private Errno() {}

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ENOSYS = 38;
    public static final int ENOPROTOOPT = 92;
    public static final int EOPNOTSUPP = 95;
    public static final int ECONNABORTED = 103;
    public static final int ENOBUFS = 105;
    public static final int ECANCELED = 125;
    public static final int ETIME = 62;
    public static final int ENODATA = 61;
    public static final int EILSEQ = 84;

    /** The symbolic name, e.g. "EINVAL", or "errno 1234" when libc has none. */
    public static String name(int errno) {
        String name = Libc.strerrorname_np(errno);
        return name != null ? name : "errno " + errno;
    }

    public static String message(int errno) {
        return Libc.strerror(errno);
    }

    /** "EINVAL (Invalid argument)". */
    public static String describe(int errno) {
        return name(errno) + " (" + message(errno) + ")";
    }
}
