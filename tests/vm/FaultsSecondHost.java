import io.sanport.client.ConnectOptions;
import io.sanport.client.NvmeException;
import io.sanport.client.RemoteController;
import io.sanport.client.RemoteNamespace;
import io.sanport.nvme.Status;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The second host of tests/vm/device-faults.sh: the Java initiator, with its own host NQN, connects to the
 * subsystem whose namespace 1 has lost a flush while the kernel host still runs I/O on namespace 2.
 * It must see namespace 2 as healthy (write, read back, compare, flush) and namespace 1 refusing writes with
 * Write Fault + DNR while its reads go on. Prints "ok"/"FAIL" lines; exit 0 when all passed.
 * <pre>java -cp CLASSES:LIB/* FaultsSecondHost ADDR PORT SUBNQN HEALTHY_LBA_NS1</pre>
 */
public final class FaultsSecondHost {
    private static int failures;

    private static void check(boolean ok, String what) {
        System.out.println((ok ? "ok   " : "FAIL ") + what);
        if (!ok) {
            failures++;
        }
    }

    public static void main(String[] args) throws Exception {
        String addr = args[0];
        int port = Integer.parseInt(args[1]);
        String nqn = args[2];
        long ns1Lba = Long.parseLong(args[3]);
        ConnectOptions options = ConnectOptions.defaults().withIoQueues(2).withKato(5000);
        try (RemoteController c = RemoteController.connect(addr, port, nqn, options); Arena arena = Arena.ofShared()) {
            check(true, "connected as " + options.hostNqn() + ": cntlid " + c.cntlid() + ", namespaces "
                    + c.activeNamespaceIds());
            RemoteNamespace ns2 = c.namespace(2);
            int bs2 = ns2.blockSize();
            int rounds = 0;
            boolean same = true;
            long max = Math.min(ns2.maxTransferBytes(), 1 << 20);
            for (long size : new long[] {4096, 65536, max}) {
                MemorySegment out = arena.allocate(size, 4096);
                MemorySegment in = arena.allocate(size, 4096);
                long lba = (32L << 20) / bs2 + rounds * ((2L << 20) / bs2); // past what the kernel host's fio touches
                for (long i = 0; i < size; i += 8) {
                    out.set(ValueLayout.JAVA_LONG_UNALIGNED, i, 0x5EC0_0000_0000L ^ (lba * bs2 + i) * 0x9E3779B97F4A7C15L);
                }
                ns2.write(lba, out);
                ns2.read(lba, in);
                same &= in.mismatch(out) == -1;
                rounds++;
            }
            check(same, "namespace 2: write 4 KiB, 64 KiB, " + max / 1024 + " KiB, read back, identical");
            try {
                ns2.flush();
                check(true, "namespace 2: flush succeeds");
            } catch (NvmeException e) {
                check(false, "namespace 2: flush: " + e.getMessage());
            }

            RemoteNamespace ns1 = c.namespace(1);
            MemorySegment buf = arena.allocate(4096, 4096);
            try {
                ns1.read(ns1Lba, buf);
                check(true, "namespace 1: a read still succeeds");
            } catch (NvmeException e) {
                check(false, "namespace 1: read: " + e.getMessage());
            }
            try {
                ns1.write(ns1Lba, buf);
                check(false, "namespace 1: a write succeeded after the failed flush");
            } catch (NvmeException e) {
                check(e.statusCode() == Status.WRITE_FAULT && Status.dnr(e.statusWord()),
                        "namespace 1: a write is refused with Write Fault + DNR: " + e.getMessage()
                                + " (status word 0x" + Integer.toHexString(e.statusWord()) + ")");
            }
        } catch (Exception e) {
            check(false, "second host: " + e);
        }
        System.out.println(failures == 0 ? "SECOND-HOST PASSED" : "SECOND-HOST FAILED");
        System.exit(failures == 0 ? 0 : 1);
    }
}
