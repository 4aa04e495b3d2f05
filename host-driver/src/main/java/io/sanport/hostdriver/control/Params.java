package io.sanport.hostdriver.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.Iterator;
import java.util.Set;

/**
 * A method's {@code params} object read field by field: each accessor names the field in the -32602 error it
 * throws, and {@link #only} refuses fields the method does not know (a typo must not be ignored silently).
 */
public final class Params {
    private final JsonNode node;
    private final String prefix; // "namespace." for the fields of a nested object, so errors name the whole path

    private Params(JsonNode node, String prefix) {
        this.node = node;
        this.prefix = prefix;
    }

    /** {@code params} as sent: absent or null reads as an empty object. */
    public static Params of(JsonNode params) throws RpcException {
        if (params == null || params.isNull()) {
            return new Params(JsonNodeFactory.instance.objectNode(), "");
        }
        if (!params.isObject()) {
            throw new RpcException(RpcException.INVALID_PARAMS, "params: must be an object");
        }
        return new Params(params, "");
    }

    /** The object in {@code field} read as params; its fields' errors are named {@code field.name}. */
    public Params object(String field) throws RpcException {
        JsonNode v = required(field);
        if (!v.isObject()) {
            throw invalid(field, "must be an object");
        }
        return new Params(v, prefix + field + ".");
    }

    /** Refuses any field not in {@code known}. */
    public Params only(String... known) throws RpcException {
        Set<String> set = Set.of(known);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!set.contains(f)) {
                throw RpcException.invalidParams(prefix + f, "unknown field" + (known.length == 0 ? " (this method takes none)"
                        : " (known: " + String.join(", ", known) + ")"));
            }
        }
        return this;
    }

    public boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    public String string(String field) throws RpcException {
        JsonNode v = required(field);
        if (!v.isTextual()) {
            throw invalid(field, "must be a string");
        }
        return v.textValue();
    }

    /** The string, or {@code otherwise} when the field is absent. */
    public String string(String field, String otherwise) throws RpcException {
        return has(field) ? string(field) : otherwise;
    }

    public boolean bool(String field) throws RpcException {
        JsonNode v = required(field);
        if (!v.isBoolean()) {
            throw invalid(field, "must be true or false");
        }
        return v.booleanValue();
    }

    /** An integer in {@code min..max} (inclusive); NSIDs and other unsigned 32-bit values fit in a long. */
    public long integer(String field, long min, long max) throws RpcException {
        JsonNode v = required(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
            throw invalid(field, "must be an integer in " + min + ".." + max);
        }
        return v.longValue();
    }

    private RpcException invalid(String field, String why) {
        return RpcException.invalidParams(prefix + field, why);
    }

    private JsonNode required(String field) throws RpcException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw invalid(field, "missing");
        }
        return v;
    }
}
