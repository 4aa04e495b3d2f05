package io.sanport.nvme.fabrics;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static io.sanport.nvme.Wire.U16;
import static io.sanport.nvme.Wire.U8;

/**
 * DH-HMAC-CHAP_Success2 (host to controller, Authentication Send), NVMe 2.0 §8.13.5.6; Linux {@code struct
 * nvmf_auth_dhchap_success2_data}: the header only; the host sends it when the controller's R2 checked out.
 */
public final class DhchapSuccess2Data {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("auth_type"),
            U8.withName("auth_id"),
            MemoryLayout.paddingLayout(2),
            U16.withName("t_id"),
            MemoryLayout.paddingLayout(10)
    ).withName("nvmf_auth_dhchap_success2_data");

    public static final long SIZE = LAYOUT.byteSize();

    private DhchapSuccess2Data() {}
}
