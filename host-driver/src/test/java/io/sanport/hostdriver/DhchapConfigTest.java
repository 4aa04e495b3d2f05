package io.sanport.hostdriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.nvme.auth.DhGroup;
import io.sanport.nvme.auth.DhchapHash;
import io.sanport.nvme.auth.DhchapKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DH-HMAC-CHAP settings in nvmetcli's config: configfs attribute names, nvmetcli's grouped form, errors by path. */
class DhchapConfigTest {
    static final String H1 = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";
    static final String H2 = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000002";
    static final String KEY = DhchapKey.format(new byte[48], 2);
    static final String CTRL = DhchapKey.format(new byte[32], 0);

    @TempDir
    Path dir;

    static String json(String host1, String attr) {
        return """
                { "hosts": [ %s, { "nqn": "%s" } ],
                  "ports": [],
                  "subsystems": [ { "nqn": "nqn.2024-01.io.sanport:a", "attr": { %s },
                                    "allowed_hosts": [ "%s", "%s" ], "namespaces": [] } ] }
                """.formatted(host1, H2, attr, H1, H2);
    }

    @Test
    void configfsNamesAndNvmetclisGroupedForm() throws Exception {
        TargetConfig flat = TargetConfig.parse(json("""
                { "nqn": "%s", "dhchap_key": "%s", "dhchap_ctrl_key": "%s", "dhchap_hash": "hmac(sha512)", "dhchap_dhgroup": "ffdhe4096" }
                """.formatted(H1, KEY, CTRL), "\"dhchap_required\": \"1\""), "flat.json");
        TargetConfig.DhchapConfig d = flat.hosts().get(0).dhchap();
        assertTrue(d.key().sameAs(DhchapKey.parse(KEY)));
        assertTrue(d.ctrlKey().sameAs(DhchapKey.parse(CTRL)));
        assertEquals(DhchapHash.SHA512, d.hash());
        assertEquals(DhGroup.FFDHE4096, d.dhgroup());
        assertNull(flat.hosts().get(1).dhchap());
        assertTrue(flat.subsystems().get(0).dhchapRequired());
        assertFalse(d.toString().contains(KEY.substring(10, 30)), d.toString());

        TargetConfig grouped = TargetConfig.parse(json("""
                { "nqn": "%s", "dhchap": { "key": "%s", "ctrl_key": "", "hash": "hmac(sha256)", "dhgroup": "null" } }
                """.formatted(H1, KEY), "\"allow_any_host\": \"0\""), "grouped.json");
        d = grouped.hosts().get(0).dhchap();
        assertNull(d.ctrlKey());
        assertEquals(DhchapHash.SHA256, d.hash());
        assertEquals(DhGroup.NULL, d.dhgroup());
        assertFalse(grouped.subsystems().get(0).dhchapRequired());
        // the running-config copies keep the flag
        assertTrue(flat.withoutNamespace("nqn.2024-01.io.sanport:a", 1).subsystems().get(0).dhchapRequired());
    }

    @Test
    void badSettingsAreNamedByPathAndNeverQuoted() {
        String bad = KEY.substring(0, 15) + (KEY.charAt(15) == 'A' ? 'B' : 'A') + KEY.substring(16);
        ConfigException e = assertThrows(ConfigException.class, () -> TargetConfig.parse(json(
                "{ \"nqn\": \"%s\", \"dhchap_key\": \"%s\" }".formatted(H1, bad), ""), "x.json"));
        assertEquals("$.hosts[0].dhchap_key", e.path());
        assertFalse(e.getMessage().contains(bad.substring(10, 30)), e.getMessage());
        e = assertThrows(ConfigException.class, () -> TargetConfig.parse(json(
                "{ \"nqn\": \"%s\", \"dhchap_ctrl_key\": \"%s\" }".formatted(H1, CTRL), ""), "x.json"));
        assertEquals("$.hosts[0].dhchap_ctrl_key", e.path());
        e = assertThrows(ConfigException.class, () -> TargetConfig.parse(json(
                "{ \"nqn\": \"%s\", \"dhchap_key\": \"%s\", \"dhchap_hash\": \"md5\" }".formatted(H1, KEY), ""), "x.json"));
        assertEquals("$.hosts[0].dhchap_hash", e.path());
        e = assertThrows(ConfigException.class, () -> TargetConfig.parse(json(
                "{ \"nqn\": \"%s\", \"dhchap_key\": \"%s\", \"dhchap_dhgroup\": \"modp1024\" }".formatted(H1, KEY), ""), "x.json"));
        assertEquals("$.hosts[0].dhchap_dhgroup", e.path());
    }

    @Test
    void aFileOthersCanReadIsNoticed() throws Exception {
        Path f = dir.resolve("t.json");
        Files.writeString(f, "{}");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        assertTrue(TargetConfig.readableByOthers(f));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        assertFalse(TargetConfig.readableByOthers(f));
    }
}
