package io.sanport.cli;

/** Turns an exception into the one line a user reads: its message and the causes that add something. */
final class Errors {
    private Errors() {}

    static String describe(Throwable e) {
        StringBuilder b = new StringBuilder();
        String last = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            // java.nio's file exceptions say only the path
            if (t instanceof java.nio.file.NoSuchFileException f && f.getReason() == null) {
                m = f.getFile() + ": no such file";
            } else if (t instanceof java.nio.file.AccessDeniedException f && f.getReason() == null) {
                m = f.getFile() + ": permission denied";
            }
            if (m == null || m.isBlank() || (last != null && last.contains(m))) {
                continue;
            }
            if (!b.isEmpty()) b.append(": ");
            b.append(m);
            last = m;
        }
        return b.isEmpty() ? e.toString() : b.toString();
    }
}
