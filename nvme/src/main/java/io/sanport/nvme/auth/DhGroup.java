package io.sanport.nvme.auth;

import io.sanport.nvme.fabrics.Dhchap;
import java.math.BigInteger;
import javax.crypto.spec.DHParameterSpec;

/**
 * The DH groups of DH-HMAC-CHAP: none, or an FFDHE group of RFC 7919. The JDK's own DH defaults of these sizes
 * are the RFC 3526 MODP groups, not these, so the primes are built here from RFC 7919's published definition
 * (Appendix A): p = 2^b - 2^(b-64) + (floor(2^(b-130) e) + X) * 2^64 - 1 with the RFC's X, generator 2, and the
 * RFC's shortest private exponent. Tests check the result is a safe prime with the RFC's digits.
 */
public enum DhGroup {
    NULL(Dhchap.DHGROUP_NULL, 0, 0, 0),
    FFDHE2048(Dhchap.DHGROUP_FFDHE2048, 2048, 560316, 225),
    FFDHE3072(Dhchap.DHGROUP_FFDHE3072, 3072, 2625351, 275),
    FFDHE4096(Dhchap.DHGROUP_FFDHE4096, 4096, 5736041, 325),
    FFDHE6144(Dhchap.DHGROUP_FFDHE6144, 6144, 15705020, 375),
    FFDHE8192(Dhchap.DHGROUP_FFDHE8192, 8192, 10965728, 400);

    private final int id;
    private final int bits;
    private final long x;
    private final int exponentBits;
    private volatile DHParameterSpec spec;

    DhGroup(int id, int bits, long x, int exponentBits) {
        this.id = id;
        this.bits = bits;
        this.x = x;
        this.exponentBits = exponentBits;
    }

    public int id() { return id; }
    /** Bytes of a public value (DHVLEN), 0 for NULL. */
    public int valueLength() { return bits / 8; }
    /** As configfs' {@code dhchap_dhgroup} shows it: {@code null}, {@code ffdhe2048}... */
    public String configName() { return name().toLowerCase(); }

    public static DhGroup byId(int id) {
        for (DhGroup g : values()) if (g.id == id) return g;
        return null;
    }

    /** Parses {@code null}, {@code ffdhe2048}... (any case); null when none of them. */
    public static DhGroup parse(String name) {
        String n = name.trim().toUpperCase();
        for (DhGroup g : values()) if (g.name().equals(n)) return g;
        return null;
    }

    /** The group's parameters (p, g = 2, private exponent length); not for NULL. */
    public DHParameterSpec parameters() {
        if (this == NULL) throw new IllegalStateException("the NULL DH group has no parameters");
        DHParameterSpec s = spec;
        if (s == null) {
            spec = s = new DHParameterSpec(prime(bits, x), BigInteger.TWO, exponentBits);
        }
        return s;
    }

    /** RFC 7919 Appendix A's construction of the b-bit prime with offset X. */
    static BigInteger prime(int b, long x) {
        // e to b + 64 fractional bits: the sum of 1/k!, each term truncated (the error stays far below 2^-64)
        int precision = b + 64;
        BigInteger term = BigInteger.ONE.shiftLeft(precision);
        BigInteger e = BigInteger.ZERO;
        for (int k = 1; term.signum() > 0; k++) {
            e = e.add(term);
            term = term.divide(BigInteger.valueOf(k));
        }
        BigInteger floor = e.shiftRight(precision - (b - 130));
        return BigInteger.ONE.shiftLeft(b).subtract(BigInteger.ONE.shiftLeft(b - 64))
                .add(floor.add(BigInteger.valueOf(x)).shiftLeft(64)).subtract(BigInteger.ONE);
    }
}
