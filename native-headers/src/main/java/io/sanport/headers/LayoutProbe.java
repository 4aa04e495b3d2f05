package io.sanport.headers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Generates a C program from a {@link BindList} that prints the size and offset of every listed struct
 * member and the value of every listed constant, compiles it with gcc against the installed headers and
 * runs it. The result is what the Java layouts must match, key by key:
 * {@code sizeof <struct>}, {@code offsetof <struct>.<member>}, {@code sizeof <struct>.<member>},
 * {@code value <constant>}.
 */
public final class LayoutProbe {
    private LayoutProbe() {}

    public static String source(BindList list) {
        StringBuilder c = new StringBuilder();
        c.append("/* generated from ").append(list.name()).append(".bind by LayoutProbe: do not edit */\n");
        c.append("#define _GNU_SOURCE\n#include <stddef.h>\n#include <stdio.h>\n");
        for (String header : list.headers()) {
            c.append("#include <").append(header).append(">\n");
        }
        c.append("\nint main(void)\n{\n");
        for (BindList.Struct s : list.structs()) {
            String type = "struct " + s.cName();
            c.append("\tprintf(\"sizeof ").append(s.cName()).append(" %zu\\n\", sizeof(").append(type).append("));\n");
            for (String m : s.members()) {
                c.append("\tprintf(\"offsetof ").append(s.cName()).append('.').append(m).append(" %zu\\n\", offsetof(")
                        .append(type).append(", ").append(m).append("));\n");
                c.append("\tprintf(\"sizeof ").append(s.cName()).append('.').append(m).append(" %zu\\n\", sizeof(((")
                        .append(type).append(" *)0)->").append(m).append("));\n");
            }
        }
        for (BindList.Symbol k : list.constants()) {
            c.append("\tprintf(\"value ").append(k.cName()).append(" %lld\\n\", (long long)(").append(k.cName()).append("));\n");
        }
        for (BindList.Symbol f : list.functions()) {
            // taking the address proves the prototype is in the listed headers and the symbol links
            c.append("\tprintf(\"function ").append(f.cName()).append(" %d\\n\", (void *)&").append(f.cName())
                    .append(" != NULL);\n");
        }
        c.append("\treturn 0;\n}\n");
        return c.toString();
    }

    /** Compiles and runs the probe in {@code workDir}; returns every printed key with its value. */
    public static Map<String, Long> run(BindList list, Path workDir) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        Path src = workDir.resolve(list.name() + "-probe.c");
        Path exe = workDir.resolve(list.name() + "-probe");
        Files.writeString(src, source(list));
        List<String> cc = new ArrayList<>(List.of("gcc", "-Wall", "-Werror", "-Wno-address", "-o", exe.toString(), src.toString()));
        list.links().forEach(l -> cc.add("-l" + l));
        String compiled = exec(cc, workDir);
        if (compiled != null) {
            String hint = list.debianPackage() == null ? "are the -dev headers installed?"
                    : "is Debian's " + list.debianPackage() + " installed? scripts/packages/build.list lists it";
            throw new IllegalStateException("the layout probe for " + list.name() + " does not compile (" + hint
                    + "):\n" + compiled);
        }
        Path out = workDir.resolve(list.name() + "-probe.out");
        String ran = exec(List.of(exe.toString()), workDir, out);
        if (ran != null) {
            throw new IllegalStateException("the layout probe for " + list.name() + " failed:\n" + ran);
        }
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            int space = line.lastIndexOf(' ');
            values.put(line.substring(0, space), Long.parseLong(line.substring(space + 1)));
        }
        return values;
    }

    private static String exec(List<String> command, Path dir) throws IOException, InterruptedException {
        return exec(command, dir, dir.resolve("probe-build.log"));
    }

    /** Runs a command with its output in {@code out}; null on success, else the output. */
    private static String exec(List<String> command, Path dir, Path out) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + ": timed out";
        }
        return p.exitValue() == 0 ? null : String.join(" ", command) + " exited " + p.exitValue() + "\n"
                + Files.readString(out);
    }

    /** {@code java LayoutProbe NAME} prints the generated probe.c, for a reader who wants to see it. */
    public static void main(String[] args) {
        for (String name : args.length > 0 ? List.of(args) : BindList.ALL) {
            System.out.print(source(BindList.load(name)));
        }
    }
}
