package io.sanport.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** errno in the words strace and dmesg use: the symbolic name from libc, then its message. */
class ErrnoWordsTest {
    @Test
    void knownErrnosHaveNameAndMessage() {
        assertEquals("EINVAL (Invalid argument)", Errno.describe(22));
        assertEquals("EINVAL (Invalid argument)", Errno.describe(Errno.EINVAL));
        assertEquals("EOPNOTSUPP (Operation not supported)", Errno.describe(Errno.EOPNOTSUPP));
        assertEquals("EROFS (Read-only file system)", Errno.describe(Errno.EROFS));
        assertEquals("EBUSY (Device or resource busy)", Errno.describe(Errno.EBUSY));
    }

    @Test
    void unknownErrnoIsStillWords() {
        assertEquals("errno 4242 (Unknown error 4242)", Errno.describe(4242));
    }

    @Test
    void constantsMatchLinux() {
        // asm-generic/errno-base.h and errno.h on x86-64 and arm64
        assertEquals(22, Errno.EINVAL);
        assertEquals(95, Errno.EOPNOTSUPP);
        assertEquals(30, Errno.EROFS);
        assertEquals(125, Errno.ECANCELED);
        assertEquals(62, Errno.ETIME);
        assertEquals("ECANCELED", Errno.name(Errno.ECANCELED));
        assertEquals("ETIME", Errno.name(Errno.ETIME));
    }
}
