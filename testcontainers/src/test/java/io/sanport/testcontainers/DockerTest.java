package io.sanport.testcontainers;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

/**
 * A test that needs a Docker engine and the locally built image sanport:dev. It runs only when
 * SANPORT_DOCKER_TESTS=1 (docker/test.sh sets it, after starting an engine and building the image), so the
 * project's plain {@code mvn verify} skips it; when enabled, a missing engine or image fails it in words.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@EnabledIfEnvironmentVariable(named = "SANPORT_DOCKER_TESTS", matches = "1",
        disabledReason = "needs Docker and the sanport:dev image: run docker/test.sh (sets SANPORT_DOCKER_TESTS=1)")
@ExtendWith(DockerTest.Check.class)
@interface DockerTest {
    final class Check implements BeforeAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            if (!DockerClientFactory.instance().isDockerAvailable()) {
                throw new IllegalStateException("SANPORT_DOCKER_TESTS=1 but no Docker engine answers (start dockerd; "
                        + "set TESTCONTAINERS_RYUK_DISABLED=true and TESTCONTAINERS_HOST_OVERRIDE=localhost where no "
                        + "registry is reachable)");
            }
            String image = SanportContainer.DEFAULT_IMAGE.asCanonicalNameString();
            try {
                DockerClientFactory.instance().client().inspectImageCmd(image).exec();
            } catch (RuntimeException e) {
                throw new IllegalStateException("no image " + image + ": build it with docker/build.sh", e);
            }
        }
    }
}
