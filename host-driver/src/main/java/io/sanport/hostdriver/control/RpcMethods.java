package io.sanport.hostdriver.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The control socket's methods by name, each a {@link Handler} from {@code params} to {@code result}, like
 * SPDK's {@code SPDK_RPC_REGISTER}. Registering a name twice is refused. {@link #call} runs one method at a
 * time for the whole target, so a method that changes the configuration never races another.
 *
 * <pre>{@code
 * methods.register("nvmf_subsystem_remove_ns", params -> {
 *     Params p = Params.of(params).only("nqn", "nsid");
 *     ...
 *     return JsonNodeFactory.instance.booleanNode(true);
 * });
 * }</pre>
 */
public final class RpcMethods {

    /** One method: its result (any JSON value), or an {@link RpcException} for an error object. */
    @FunctionalInterface
    public interface Handler {
        JsonNode call(JsonNode params) throws RpcException;
    }

    private final Map<String, Handler> handlers = new TreeMap<>();

    /** A registry holding {@code rpc_get_methods}. */
    public RpcMethods() {
        register("rpc_get_methods", params -> {
            Params.of(params).only();
            ArrayNode names = JsonNodeFactory.instance.arrayNode();
            names().forEach(names::add);
            return names;
        });
    }

    /** Adds {@code name}; a name already registered is refused. */
    public synchronized RpcMethods register(String name, Handler handler) {
        if (name == null || name.isEmpty() || handler == null) {
            throw new IllegalArgumentException("a method needs a name and a handler");
        }
        if (handlers.putIfAbsent(name, handler) != null) {
            throw new IllegalArgumentException("method " + name + " is already registered");
        }
        return this;
    }

    public synchronized boolean has(String name) {
        return handlers.containsKey(name);
    }

    public synchronized List<String> names() {
        return List.copyOf(handlers.keySet());
    }

    /**
     * Runs {@code name}: its result, or an {@link RpcException} (-32601 listing the methods for an unknown name;
     * a handler's own; -32000 for an {@link IllegalArgumentException} or {@link IllegalStateException} it threw,
     * which the model's methods use for "cannot do that").
     */
    public synchronized JsonNode call(String name, JsonNode params) throws RpcException {
        Handler h = handlers.get(name);
        if (h == null) {
            throw new RpcException(RpcException.METHOD_NOT_FOUND, "no method " + name + " (methods: "
                    + String.join(", ", handlers.keySet()) + ")");
        }
        try {
            JsonNode result = h.call(params);
            return result != null ? result : JsonNodeFactory.instance.nullNode();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw RpcException.failed(e.getMessage() != null ? e.getMessage() : e.toString());
        }
    }
}
