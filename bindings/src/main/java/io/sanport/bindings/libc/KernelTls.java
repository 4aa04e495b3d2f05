package io.sanport.bindings.libc;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.sanport.bindings.Errno;
import io.sanport.bindings.ErrnoException;
import io.sanport.bindings.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's TLS record layer (kTLS) on a TCP socket whose handshake is done: {@link #attach} the "tls" upper
 * layer protocol, then {@link #install} each direction's TLS 1.3 AES-GCM traffic key and iv. From then on the
 * socket reads and writes plaintext application data; the kernel encrypts and decrypts. A record that is not
 * application data (an alert, a KeyUpdate) makes a plain read fail with EIO.
 */
public final class KernelTls {
    private KernelTls() {}

    /**
     * Whether {@code attach} failed because this kernel has no TLS (ENOENT: no tls module loaded or loadable;
     * EOPNOTSUPP: not for this socket), not because of the connection (ENOTCONN after the peer left, ...).
     */
    private static boolean unavailable(ErrnoException e) {
        return e.errno() == io.sanport.bindings.Errno.ENOENT || e.errno() == io.sanport.bindings.Errno.EOPNOTSUPP;
    }

    /**
     * {@link #attach}, telling the kernel's lack of TLS apart from the connection's faults: null when attached,
     * else why this kernel cannot carry TLS here (with its loaded ULPs); throws for any other errno.
     */
    public static String attachOrMissing(int fd, Object subject) throws ErrnoException {
        try {
            attach(fd, subject);
            return null;
        } catch (ErrnoException e) {
            if (!unavailable(e)) {
                throw e;
            }
            return e.getMessage() + ", " + availableUlps();
        }
    }

    /** {@code setsockopt(TCP_ULP, "tls")}: ENOENT when the kernel has no tls module loaded or loadable. */
    public static void attach(int fd, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(3);
            MemorySegment.copy("tls".getBytes(StandardCharsets.US_ASCII), 0, name, JAVA_BYTE, 0, 3);
            Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_ULP, name, "setsockopt(TCP_ULP, \"tls\")", subject);
        }
    }

    /**
     * {@code setsockopt(SOL_TLS, direction)} ({@link Libc#TLS_TX} or {@link Libc#TLS_RX}) for TLS 1.3 with
     * AES-128-GCM (16-byte key) or AES-256-GCM (32-byte key); {@code iv} is the 12-byte write iv of RFC 8446 7.3,
     * {@code sequence} the number of records already protected with this key. The native copy of the key is
     * zeroed before this returns; the arrays stay the caller's to wipe.
     */
    public static void install(int fd, int direction, byte[] key, byte[] iv, long sequence, Object subject)
            throws ErrnoException {
        StructLayout layout = switch (key.length) {
            case TlsCryptoInfoAesGcm128.KEY_SIZE -> TlsCryptoInfoAesGcm128.LAYOUT;
            case TlsCryptoInfoAesGcm256.KEY_SIZE -> TlsCryptoInfoAesGcm256.LAYOUT;
            default -> throw new IllegalArgumentException("an AES-GCM key is 16 or 32 bytes, not " + key.length);
        };
        if (iv.length != TlsCryptoInfoAesGcm128.SALT_SIZE + TlsCryptoInfoAesGcm128.IV_SIZE) {
            throw new IllegalArgumentException("a TLS 1.3 AES-GCM iv is 12 bytes, not " + iv.length);
        }
        int cipher = key.length == 16 ? Libc.TLS_CIPHER_AES_GCM_128 : Libc.TLS_CIPHER_AES_GCM_256;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(layout);
            try {
                info.set(JAVA_SHORT, Native.requireOffset(layout, "info.version"), (short) Libc.TLS_1_3_VERSION);
                info.set(JAVA_SHORT, Native.requireOffset(layout, "info.cipher_type"), (short) cipher);
                // the nonce is salt (iv[0..4], fixed) then iv (iv[4..12], XORed with the sequence per record)
                MemorySegment.copy(iv, 0, info, JAVA_BYTE, Native.requireOffset(layout, "salt"), 4);
                MemorySegment.copy(iv, 4, info, JAVA_BYTE, Native.requireOffset(layout, "iv"), 8);
                MemorySegment.copy(key, 0, info, JAVA_BYTE, Native.requireOffset(layout, "key"), key.length);
                info.set(JAVA_LONG_BE, Native.requireOffset(layout, "rec_seq"), sequence);
                Libc.setsockopt(fd, Libc.SOL_TLS, direction, info,
                        "setsockopt(SOL_TLS, " + (direction == Libc.TLS_TX ? "TLS_TX" : "TLS_RX") + ")", subject);
            } finally {
                info.fill((byte) 0);
            }
        }
    }

    /**
     * {@code TLS_RX_EXPECT_NO_PAD} (Linux 6.0 and later): the peer pads no TLS 1.3 record, so the kernel may
     * decrypt straight into the reader's buffer (it checks, and retries a padded record the slow way).
     * Returns false when the kernel does not know the option.
     */
    public static boolean expectNoPad(int fd, Object subject) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            Libc.setsockopt(fd, Libc.SOL_TLS, Libc.TLS_RX_EXPECT_NO_PAD, arena.allocateFrom(JAVA_INT, 1),
                    "setsockopt(SOL_TLS, TLS_RX_EXPECT_NO_PAD)", subject);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOPROTOOPT || e.errno() == Errno.EINVAL) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Both directions after {@link #attach}: TX then RX, sequence numbers 0 (nothing sent or read under these
     * keys yet), and {@link #expectNoPad} where the kernel has it. Returns whether RX expects no padding.
     */
    public static boolean installBoth(int fd, byte[] txKey, byte[] txIv, byte[] rxKey, byte[] rxIv, Object subject)
            throws ErrnoException {
        install(fd, Libc.TLS_TX, txKey, txIv, 0, subject);
        install(fd, Libc.TLS_RX, rxKey, rxIv, 0, subject);
        return expectNoPad(fd, subject);
    }

    /** The kernel's /proc/sys/net/ipv4/tcp_available_ulp (the loaded ULPs, e.g. "mptcp tls"), for messages. */
    public static String availableUlps() {
        try {
            return "tcp_available_ulp \"" + Files.readString(Path.of("/proc/sys/net/ipv4/tcp_available_ulp")).strip()
                    + "\"";
        } catch (java.io.IOException | RuntimeException e) {
            return "tcp_available_ulp unreadable";
        }
    }

    private static final java.lang.foreign.ValueLayout.OfLong JAVA_LONG_BE =
            java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
}
