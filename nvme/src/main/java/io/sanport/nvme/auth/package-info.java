/**
 * DH-HMAC-CHAP in-band authentication (NVMe Base 2.0 §8.13): secrets in the {@code DHHC-1} format, the key
 * transform, the responses and the FFDHE exchange, all on the JDK's {@code javax.crypto} (HMAC-SHA2, DH) and
 * {@link java.security.SecureRandom}; no primitive of our own. Shared by the target and the client.
 */
package io.sanport.nvme.auth;
