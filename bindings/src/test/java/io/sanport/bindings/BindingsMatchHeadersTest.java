package io.sanport.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sanport.headers.BindList;
import io.sanport.headers.LayoutProbe;
import java.lang.foreign.GroupLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every size, offset and value the Java bindings use, checked against the real headers: the probe compiled
 * from the same include list the bindings are written from. A mismatch names the struct member or constant.
 */
class BindingsMatchHeadersTest {
    static final List<String> LISTS = BindList.ALL;

    @TempDir
    Path work;

    @ParameterizedTest
    @FieldSource("LISTS")
    void javaLayoutsMatchTheHeaders(String name) throws Exception {
        BindList list = BindList.load(name);
        Map<String, Long> c = LayoutProbe.run(list, work);
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (BindList.Struct s : list.structs()) {
            GroupLayout layout = (GroupLayout) Class.forName(s.javaClass()).getField("LAYOUT").get(null);
            checked += compare(wrong, "sizeof " + s.cName(), c.get("sizeof " + s.cName()), layout.byteSize());
            for (String m : s.members()) {
                String member = s.cName() + "." + m;
                checked += compare(wrong, "offsetof " + member, c.get("offsetof " + member), Native.offsetOf(layout, m));
                checked += compare(wrong, "sizeof " + member, c.get("sizeof " + member), Native.sizeOf(layout, m));
            }
        }
        for (BindList.Symbol k : list.constants()) {
            Field f = Class.forName(k.javaClass()).getField(k.cName());
            checked += compare(wrong, "value " + k.cName() + " in " + k.javaClass(), c.get("value " + k.cName()),
                    ((Number) f.get(null)).longValue());
        }
        for (BindList.Symbol fn : list.functions()) {
            boolean bound = Arrays.stream(Class.forName(fn.javaClass()).getMethods())
                    .map(Method::getName).anyMatch(fn.cName()::equals);
            if (!bound) {
                wrong.add(fn.cName() + ": listed but " + fn.javaClass() + " has no method of that name");
            }
            checked++;
        }
        assertTrue(wrong.isEmpty(), name + ".bind: the Java side differs from the headers:\n  " + String.join("\n  ", wrong));
        assertEquals(true, checked > 20, "the probe checked too little: " + checked);
    }

    private static int compare(List<String> wrong, String what, Long cValue, long javaValue) {
        if (cValue == null) {
            wrong.add(what + ": the probe printed nothing");
        } else if (javaValue == -1 && !what.startsWith("value")) {
            wrong.add(what + ": no such member in the Java layout (C says " + cValue + ")");
        } else if (cValue != javaValue) {
            wrong.add(what + ": C says " + cValue + ", Java says " + javaValue);
        }
        return 1;
    }
}
