package io.sanport.headers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One library's include list (a {@code .bind} file): the headers, and every struct member, constant and
 * function the Java bindings mirror, each with the Java class that holds it, and the Debian package whose headers
 * they come from (named when the probe cannot compile, so a missing install says what to install).
 */
public record BindList(String name, String debianPackage, String library, List<String> links, List<String> headers,
                       List<Struct> structs, List<Symbol> constants, List<Symbol> functions) {

    public record Struct(String cName, String javaClass, List<String> members) {}

    public record Symbol(String cName, String javaClass) {}

    public static final List<String> ALL = List.of("libc", "liburing", "nvme_ioctl", "libibverbs", "librdmacm");

    public static BindList load(String name) {
        try (InputStream in = BindList.class.getResourceAsStream(name + ".bind")) {
            if (in == null) {
                throw new IllegalArgumentException("no include list " + name + ".bind on the classpath");
            }
            return parse(name, in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static BindList parse(String name, InputStream in) throws IOException {
        String library = null;
        String debianPackage = null;
        List<String> links = new ArrayList<>();
        List<String> headers = new ArrayList<>();
        List<Struct> structs = new ArrayList<>();
        List<Symbol> constants = new ArrayList<>();
        List<Symbol> functions = new ArrayList<>();
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        int lineNo = 0;
        for (String line; (line = reader.readLine()) != null; ) {
            lineNo++;
            String text = line.strip();
            if (text.isEmpty() || text.startsWith("#")) {
                continue;
            }
            String[] words = text.split("\\s+");
            if (Character.isWhitespace(line.charAt(0))) {
                if (structs.isEmpty()) {
                    throw new IllegalArgumentException(name + ".bind:" + lineNo + ": members outside a struct");
                }
                structs.getLast().members().addAll(Arrays.asList(words));
                continue;
            }
            switch (words[0]) {
                case "package" -> debianPackage = words[1];
                case "library" -> library = words[1];
                case "link" -> links.add(words[1]);
                case "header" -> headers.add(words[1]);
                case "struct" -> structs.add(new Struct(words[1], words[2],
                        new ArrayList<>(Arrays.asList(words).subList(3, words.length))));
                case "constant" -> constants.add(new Symbol(words[1], words[2]));
                case "function" -> functions.add(new Symbol(words[1], words[2]));
                default -> throw new IllegalArgumentException(name + ".bind:" + lineNo + ": unknown entry " + words[0]);
            }
        }
        return new BindList(name, debianPackage, library, links, headers, structs, constants, functions);
    }
}
