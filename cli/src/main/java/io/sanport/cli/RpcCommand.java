package io.sanport.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code sanport rpc METHOD [PARAMS]}: one JSON-RPC call on a running target's control socket, like SPDK's rpc.py. */
@Command(name = "rpc", mixinStandardHelpOptions = true,
        description = {"Call a method of a running target's control socket and print its result as JSON.",
                "'sanport rpc rpc_get_methods' lists the methods; PARAMS is a JSON object, e.g.",
                "  sanport rpc nvmf_ns_set_enabled '{\"nqn\": \"nqn.2026-11.io.sanport:x\", \"nsid\": 1, \"enabled\": false}'"})
final class RpcCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", paramLabel = "METHOD", description = "The method, e.g. nvmf_get_subsystems.")
    String method;
    @Parameters(index = "1", arity = "0..1", paramLabel = "PARAMS", description = "Its parameters: a JSON object.")
    String params;
    @Mixin
    ControlClientOptions control = new ControlClientOptions();

    @Override
    public Integer call() throws Exception {
        JsonNode p = null;
        if (params != null) {
            try {
                p = JSON.readTree(params);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("PARAMS is not JSON: " + e.getOriginalMessage());
            }
            if (!p.isObject()) {
                throw new IllegalArgumentException("PARAMS must be a JSON object, like '{\"nqn\": \"...\"}'");
            }
        }
        JsonNode result = control.call(method, p);
        System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
        return 0;
    }
}
