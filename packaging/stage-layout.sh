#!/usr/bin/env bash
# Stages sanport's installed layout under a root directory, the one layout both the Debian package
# (packaging/build-deb.sh) and the container image (docker/build.sh) are made of:
#   /usr/lib/sanport/lib    the jars of cli/target/lib (sanport's modules and their runtime dependencies)
#   /usr/lib/sanport/java   a Java runtime jlinked from the build's JDK with only the modules the jars need
#
#   packaging/stage-layout.sh ROOT    build the project if sources changed, then stage into ROOT (made if missing)
#   SKIP_BUILD=1                      use cli/target/lib as it is (no Maven)
#
# Needs a JDK >= 22 (found by scripts/lib.sh: jlink, jdeps) and, to build, Maven.
set -euo pipefail
SANPORT_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$SANPORT_ROOT/scripts/lib.sh"
say() { echo "stage-layout: $*" >&2; }
[ $# = 1 ] || { echo "usage: packaging/stage-layout.sh ROOT" >&2; exit 2; }
ROOT=$1
umask 022
sanport_find_jdk

# 1. the jars
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    sanport_build_if_needed
fi
jars=("$SANPORT_LIB"/sanport-cli-*.jar)
[ -f "${jars[0]}" ] || { say "no jars in $SANPORT_LIB: build first (mvn -pl cli -am package -DskipTests)"; exit 1; }
LIB=$ROOT/usr/lib/sanport/lib
RUNTIME=$ROOT/usr/lib/sanport/java
rm -rf "$LIB" "$RUNTIME"
mkdir -p "$LIB"
cp "$SANPORT_LIB"/*.jar "$LIB/"
chmod 0644 "$LIB"/*.jar

# 2. the Java runtime: only the modules the sanport jars need (jdeps: java.base, java.logging). jackson-databind's
# optional java.desktop (java.beans annotations) and java.sql (java.sql.Date) support is left out: sanport reads
# its configuration as a JsonNode tree, and jackson checks for those modules before using them. --metrics needs the
# Prometheus client's HTTP server (jdk.httpserver) and its JVM metrics (java.management, jdk.management), which
# jdeps cannot see from the sanport jars alone.
MODULES=java.base,java.logging,jdk.httpserver,java.management,jdk.management
release=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
deps=$("$JAVA_HOME/bin/jdeps" --multi-release "$release" --ignore-missing-deps --print-module-deps \
        "$LIB"/sanport-*.jar 2>/dev/null | tail -1)
for m in ${deps//,/ }; do
    case ",$MODULES," in *",$m,"*) ;; *) MODULES=$MODULES,$m;; esac
done
say "jlink --add-modules $MODULES (from $JAVA_HOME)"
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
    --compress=zip-6 --output "$RUNTIME"
say "staged in $ROOT/usr/lib/sanport: runtime $(du -sh "$RUNTIME" | cut -f1), jars $(du -sh "$LIB" | cut -f1)"
