package io.sanport.bench.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The RDMA fuzzer's seeded damage (its run against a real target is tests/vm/soak.sh, on SoftRoCE): a case is a
 * function of its seed, the damage reaches the edges the brief names, and a target that cannot be reached makes
 * every case a finding or a CM reject, never an exception out of the fuzzer.
 */
class RdmaFuzzerTest {
    @Test
    void aCaseIsAFunctionOfItsSeed() {
        for (long seed = 1; seed < 300; seed++) {
            StringBuilder a = new StringBuilder();
            StringBuilder b = new StringBuilder();
            assertArrayEquals(RdmaFuzzer.mutate(new byte[64 + 512], new SplittableRandom(seed), a),
                    RdmaFuzzer.mutate(new byte[64 + 512], new SplittableRandom(seed), b));
            assertArrayEquals(RdmaFuzzer.cmRequest(new SplittableRandom(seed), a), RdmaFuzzer.cmRequest(new SplittableRandom(seed), b));
            assertEquals(a.toString(), b.toString());
        }
    }

    @Test
    void theDamageReachesTheEdges() {
        boolean shortCapsule = false, pastReceiveBuffer = false, addressNear2to63 = false, keyedLengthMax = false;
        boolean sqsizeMax = false, qidMax = false, shortPrivateData = false, hsqsizeMax = false;
        for (long seed = 0; seed < 5000; seed++) {
            StringBuilder log = new StringBuilder();
            byte[] c = RdmaFuzzer.mutate(new byte[64], new SplittableRandom(seed), log);
            String l = log.toString();
            shortCapsule |= c.length < 64;
            pastReceiveBuffer |= c.length > 64 + 8192;
            addressNear2to63 |= l.contains("[24..+8]=0x7ffffffffffffc00");
            keyedLengthMax |= l.contains("[32..+3]=0xffffff");
            sqsizeMax |= l.contains("[44..+2]=0xffff");
            qidMax |= l.contains("[42..+2]=0xffff");
            StringBuilder cm = new StringBuilder();
            byte[] req = RdmaFuzzer.cmRequest(new SplittableRandom(seed), cm);
            shortPrivateData |= req.length < 32;
            hsqsizeMax |= cm.toString().contains("[6..+2]=0xffff");
        }
        assertTrue(shortCapsule && pastReceiveBuffer && addressNear2to63 && keyedLengthMax && sqsizeMax && qidMax
                && shortPrivateData && hsqsizeMax, "some edge is never reached");
    }

    /** Nothing listens (and on a build machine there is no RDMA device at all): reported, not thrown. */
    @Test
    void anUnreachableTargetIsReportedNotThrown() {
        RdmaFuzzer f = new RdmaFuzzer("127.0.0.1", 1, "nqn.2026-11.io.sanport:none");
        List<TcpFuzzer.Finding> findings = f.run(5, 4, () -> false);
        assertEquals(4, f.cases());
        int rejects = f.tally().values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(4, findings.size() + rejects, findings + " " + f.tally());
        assertTrue(findings.size() > 0, "a target that is not there cannot pass every case: " + f.tally());
    }
}
