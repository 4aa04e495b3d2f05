package io.sanport.client;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

final class NvmeTcpQueueTestSupport {
    private NvmeTcpQueueTestSupport() {}

    static void fill(MemorySegment s) {
        for (long i = 0; i < s.byteSize(); i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + (i >>> 9)));
        }
    }
}
