package io.sanport.nvme;

import io.sanport.nvme.fabrics.ConnectData;
import io.sanport.nvme.fabrics.DiscoveryLogEntry;
import io.sanport.nvme.fabrics.DiscoveryLogPage;
import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.PaddingLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compiles a probe against libnvme's {@code <nvme/types.h>} and compares sizeof/offsetof of every named field with
 * our layouts. Skipped only when gcc or the header is missing.
 */
class LibnvmeProbeTest {
    private static final Path HEADER = Path.of("/usr/include/nvme/types.h");

    private record Probe(String cStruct, MemoryLayout layout, Set<String> skip) {}

    private static final List<Probe> PROBES = List.of(
            new Probe("nvme_id_ctrl", IdentifyController.LAYOUT, Set.of()),
            // libnvme 1.3 puts lbstm at 384 and vs at 392; Linux 6.1 has vs at 384
            new Probe("nvme_id_ns", IdentifyNamespace.LAYOUT, Set.of("vs")),
            new Probe("nvme_ns_id_desc", NamespaceDescriptor.LAYOUT, Set.of()),
            new Probe("nvme_error_log_page", ErrorLogEntry.LAYOUT, Set.of()),
            new Probe("nvme_smart_log", SmartLog.LAYOUT, Set.of()),
            new Probe("nvme_dsm_range", DsmRange.LAYOUT, Set.of()),
            new Probe("nvme_ns_list", ChangedNamespaceList.LAYOUT, Set.of()),
            new Probe("nvmf_connect_data", ConnectData.LAYOUT, Set.of()),
            new Probe("nvmf_discovery_log", DiscoveryLogPage.LAYOUT, Set.of()),
            new Probe("nvmf_disc_log_entry", DiscoveryLogEntry.LAYOUT, Set.of()));

    @Test
    void layoutsMatchLibnvme(@TempDir Path dir) throws Exception {
        // not an assumption: a probe that silently skips proves nothing (scripts/packages/build.list has both)
        assertTrue(Files.exists(HEADER), HEADER + " is missing: is Debian's libnvme-dev installed?");
        assertTrue(gccAvailable(), "gcc is missing: is Debian's gcc installed?");

        Map<String, Long> expected = new LinkedHashMap<>();
        StringBuilder c = new StringBuilder("""
                #include <stddef.h>
                #include <stdio.h>
                #include <nvme/types.h>
                int main(void) {
                """);
        for (Probe p : PROBES) {
            line(c, p.cStruct() + " sizeof", "sizeof(struct " + p.cStruct() + ")");
            expected.put(p.cStruct() + " sizeof", p.layout().byteSize());
            for (MemoryLayout m : ((GroupLayout) p.layout()).memberLayouts()) {
                if (m instanceof PaddingLayout || m.name().isEmpty() || p.skip().contains(m.name().get())) {
                    continue;
                }
                String field = m.name().get();
                line(c, p.cStruct() + "." + field, "offsetof(struct " + p.cStruct() + ", " + field + ")");
                expected.put(p.cStruct() + "." + field, p.layout().byteOffset(PathElement.groupElement(field)));
            }
        }
        // element structs of arrays
        line(c, "nvme_lbaf sizeof", "sizeof(struct nvme_lbaf)");
        expected.put("nvme_lbaf sizeof", (long) IdentifyNamespace.LBAF_SIZE);
        line(c, "nvme_lbaf.ds", "offsetof(struct nvme_lbaf, ds)");
        expected.put("nvme_lbaf.ds", IdentifyNamespace.OFFSET_LBAF_LBADS - IdentifyNamespace.OFFSET_LBAF);
        line(c, "nvme_lbaf.rp", "offsetof(struct nvme_lbaf, rp)");
        expected.put("nvme_lbaf.rp", IdentifyNamespace.OFFSET_LBAF_RP - IdentifyNamespace.OFFSET_LBAF);
        line(c, "nvme_id_psd sizeof", "sizeof(struct nvme_id_psd)");
        expected.put("nvme_id_psd sizeof", (long) IdentifyController.PSD_SIZE);
        line(c, "tsas.rdma.pkey", "offsetof(struct nvmf_disc_log_entry, tsas.rdma.pkey)");
        expected.put("tsas.rdma.pkey", DiscoveryLogEntry.OFFSET_RDMA_PKEY);
        line(c, "tsas.tcp.sectype", "offsetof(struct nvmf_disc_log_entry, tsas.tcp.sectype)");
        expected.put("tsas.tcp.sectype", DiscoveryLogEntry.OFFSET_TCP_SECTYPE);
        c.append("    return 0;\n}\n");

        Path src = Files.writeString(dir.resolve("probe.c"), c);
        Path exe = dir.resolve("probe");
        run(dir, "gcc", "-Wall", "-o", exe.toString(), src.toString());
        String out = run(dir, exe.toString());

        Map<String, Long> actual = new LinkedHashMap<>();
        for (String l : out.split("\n")) {
            int sp = l.lastIndexOf(' ');
            actual.put(l.substring(0, sp), Long.parseLong(l.substring(sp + 1)));
        }
        assertTrue(expected.size() > 150, "probed " + expected.size() + " fields");
        assertEquals(expected.toString().replace(", ", "\n"), actual.toString().replace(", ", "\n"));
    }

    private static void line(StringBuilder c, String key, String expr) {
        c.append("    printf(\"").append(key).append(" %zu\\n\", ").append(expr).append(");\n");
    }

    private static boolean gccAvailable() {
        try {
            Process p = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }
}
