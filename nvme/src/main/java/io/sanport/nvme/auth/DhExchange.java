package io.sanport.nvme.auth;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import javax.crypto.KeyAgreement;
import javax.crypto.interfaces.DHPublicKey;
import javax.crypto.spec.DHPublicKeySpec;

/**
 * One side's ephemeral FFDHE key pair for one authentication transaction, on the JDK's DH: its public value as
 * the wire carries it (big endian, zero-padded to the prime's length) and the session key from the peer's value
 * (padded the same way, as Linux's {@code kpp} gives it).
 */
public final class DhExchange {
    private final DhGroup group;
    private final KeyPair pair;

    public DhExchange(DhGroup group, SecureRandom random) {
        this.group = group;
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("DH");
            g.initialize(group.parameters(), random);
            this.pair = g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("DH key generation for " + group.configName() + " failed", e);
        }
    }

    public DhGroup group() { return group; }

    /** The public value g^x mod p, {@link DhGroup#valueLength} bytes. */
    public byte[] publicValue() {
        return fixed(((DHPublicKey) pair.getPublic()).getY(), group.valueLength());
    }

    /**
     * The session key from the peer's public value; IllegalArgumentException when the value has the wrong length
     * or is out of range (1 < y < p - 1, which the JDK checks).
     */
    public byte[] sessionKey(byte[] peerValue) {
        if (peerValue.length != group.valueLength()) {
            throw new IllegalArgumentException("DH value of " + peerValue.length + " bytes, " + group.configName() + " takes " + group.valueLength());
        }
        try {
            var params = group.parameters();
            var peer = KeyFactory.getInstance("DH").generatePublic(
                    new DHPublicKeySpec(new BigInteger(1, peerValue), params.getP(), params.getG()));
            KeyAgreement ka = KeyAgreement.getInstance("DH");
            ka.init(pair.getPrivate());
            ka.doPhase(peer, true);
            byte[] secret = ka.generateSecret();
            return secret.length == group.valueLength() ? secret : fixed(new BigInteger(1, secret), group.valueLength());
        } catch (GeneralSecurityException | IllegalStateException e) {
            throw new IllegalArgumentException("DH value refused: " + e.getMessage());
        }
    }

    private static byte[] fixed(BigInteger v, int length) {
        byte[] b = v.toByteArray();
        if (b.length == length) return b;
        byte[] out = new byte[length];
        int copy = Math.min(b.length, length);
        System.arraycopy(b, b.length - copy, out, length - copy, copy);
        return out;
    }
}
