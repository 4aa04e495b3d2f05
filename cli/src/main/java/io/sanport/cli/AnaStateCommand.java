package io.sanport.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sanport.nvme.AnaState;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sanport ana-state}: the operator's shorthand for {@code nvmf_subsystem_listener_set_ana_state}, to move
 * the hosts' I/O off a path (inaccessible) and back (optimized) while they stay connected.
 */
@Command(name = "ana-state", mixinStandardHelpOptions = true,
        description = {"Set the ANA state of a group on a port of a running target; the hosts connected through",
                "that port get an ANA change event and (with native multipath) move their I/O accordingly."})
final class AnaStateCommand implements Callable<Integer> {
    @Option(names = "--port-id", required = true, paramLabel = "N", description = "The port (its portid in the config).")
    int portId;
    @Option(names = "--group", defaultValue = "1", paramLabel = "G", description = "The ANA group (default: ${DEFAULT-VALUE}).")
    int group;
    @Option(names = "--state", required = true, paramLabel = "STATE",
            description = "optimized, non-optimized, inaccessible, persistent-loss or change.")
    String state;
    @Mixin
    ControlClientOptions control = new ControlClientOptions();

    @Override
    public Integer call() throws Exception {
        AnaState s = AnaState.parse(state);
        if (s == null) {
            throw new IllegalArgumentException("--state " + state + " is not an ANA state (" + AnaState.names() + ")");
        }
        ObjectNode p = JsonNodeFactory.instance.objectNode().put("port_id", portId).put("anagrpid", group)
                .put("ana_state", s.configName());
        JsonNode changed = control.call("nvmf_subsystem_listener_set_ana_state", p);
        System.out.println("port " + portId + " group " + group + ": " + s
                + (changed.asBoolean() ? "" : " (it was already)"));
        return 0;
    }
}
