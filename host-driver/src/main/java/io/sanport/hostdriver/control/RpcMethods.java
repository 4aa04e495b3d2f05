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

    /**
     * One method: its result (any JSON value; null reads as JSON null), or an exception for an error object:
     * an {@link RpcException} as it is; an {@link IllegalArgumentException}, {@link IllegalStateException} or
     * {@link java.io.IOException} (a {@code ConfigException} among them) as -32000 with its message, which is
     * how the {@code Target}'s changes refuse; anything else as -32603.
     */
    @FunctionalInterface
    public interface Handler {
        JsonNode call(JsonNode params) throws Exception;
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
     * Runs {@code name}, one call at a time (a method that picks a free id and then adds it needs no lock of its
     * own): its result, or an {@link RpcException}: -32601 listing the methods for an unknown name,
     * else what the handler threw, mapped as {@link Handler} says.
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
        } catch (RpcException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException | java.io.IOException e) {
            throw RpcException.failed(e.getMessage() != null ? e.getMessage() : e.toString());
        } catch (RuntimeException e) {
            throw e; // a bug: the socket logs it and answers -32603
        } catch (Exception e) {
            throw new RpcException(RpcException.INTERNAL_ERROR, name + " failed: " + e);
        }
    }
}
