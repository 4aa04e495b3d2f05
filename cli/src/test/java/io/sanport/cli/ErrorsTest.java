package io.sanport.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

class ErrorsTest {
    @Test
    void fileExceptionsSayWhatIsWrongNotOnlyThePath() {
        assertEquals("/etc/sanport/x.json: no such file", Errors.describe(new NoSuchFileException("/etc/sanport/x.json")));
        assertEquals("/root/y: permission denied", Errors.describe(new AccessDeniedException("/root/y")));
        assertEquals("reading the config: /z: no such file",
                Errors.describe(new IOException("reading the config", new NoSuchFileException("/z"))));
    }
}
