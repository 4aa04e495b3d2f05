package io.sanport.hostdriver;

/** Why a queue pair ended, as the metrics count it (the first reason given wins). */
public enum DisconnectReason {
    /** The host closed its connection (or the transport found it gone): the normal end. */
    HOST("host"),
    /** The host broke the protocol: a C2HTermReq was sent, or the transport refused what it sent. */
    PROTOCOL_ERROR("protocol_error"),
    /** The host owed a step for too long (ICReq, Connect, data, a blocked send). */
    TIMEOUT("timeout"),
    /** Its controller's keep-alive timer expired. */
    KEEP_ALIVE("keep_alive"),
    /** Its controller went (its admin queue closed): every other queue of it follows. */
    CONTROLLER_GONE("controller_gone"),
    /** An exception ended this queue only. */
    FAULT("fault"),
    /** The target shut down. */
    SHUTDOWN("shutdown");

    private final String label;

    DisconnectReason(String label) {
        this.label = label;
    }

    /** The Prometheus label value. */
    public String label() {
        return label;
    }
}
