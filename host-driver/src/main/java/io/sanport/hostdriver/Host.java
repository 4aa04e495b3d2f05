package io.sanport.hostdriver;

/** A host as the target knows it: its NQN, and the host identifier of its latest Connect. */
public record Host(String nqn) {}
