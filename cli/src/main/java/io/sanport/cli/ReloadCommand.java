package io.sanport.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code sanport reload}: a running {@code sanport serve} reads its --config file again and applies what differs
 * (the control socket's {@code sanport_reload}); what systemd's {@code ExecReload} runs. A refused file leaves
 * the target as it was and exits 1 naming the file and the JSON path; a reload applied but for a step that
 * failed (a change line starting "error:") exits 1 too.
 */
@Command(name = "reload", mixinStandardHelpOptions = true,
        description = {"Make a running 'sanport serve' apply its edited --config file: only what differs changes;",
                "hosts of untouched subsystems stay connected. Prints the changes, or 'no change'."})
final class ReloadCommand implements Callable<Integer> {
    @Mixin
    ControlClientOptions control = new ControlClientOptions();

    @Override
    public Integer call() throws Exception {
        JsonNode changes = control.call("sanport_reload", null);
        if (changes.isEmpty()) {
            System.out.println("no change");
        }
        for (JsonNode c : changes) {
            System.out.println(c.asText());
        }
        return errors(changes).isEmpty() ? 0 : 1;
    }

    /**
     * The change lines that say a step failed ("error: ..."; a namespace not added back after its buffered_io
     * changed): the rest of the reload applied, but not all of it.
     */
    static java.util.List<String> errors(JsonNode changes) {
        java.util.List<String> errors = new java.util.ArrayList<>();
        for (JsonNode c : changes) {
            if (c.asText().startsWith("error:")) {
                errors.add(c.asText());
            }
        }
        return errors;
    }
}
