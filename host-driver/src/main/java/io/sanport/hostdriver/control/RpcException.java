package io.sanport.hostdriver.control;

/**
 * A JSON-RPC 2.0 error object: a handler throws it to answer with that code and message (JSON-RPC 2.0 §5.1).
 * The codes below -32000 are the protocol's; {@link #APPLICATION} is a request that was understood but could
 * not be done (no such subsystem, a namespace that is already there).
 */
public final class RpcException extends Exception {
    public static final int PARSE_ERROR = -32700;
    public static final int INVALID_REQUEST = -32600;
    public static final int METHOD_NOT_FOUND = -32601;
    public static final int INVALID_PARAMS = -32602;
    public static final int INTERNAL_ERROR = -32603;
    public static final int APPLICATION = -32000;

    private final int code;

    public RpcException(int code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    /** -32602 naming the offending field: {@code "nsid: must be 1..4294967294"}. */
    public static RpcException invalidParams(String field, String why) {
        return new RpcException(INVALID_PARAMS, field + ": " + why);
    }

    /** -32000: the request was valid but cannot be done now. */
    public static RpcException failed(String message) {
        return new RpcException(APPLICATION, message);
    }

    public int code() {
        return code;
    }
}
