# Shared by ./sanport, ./test.sh and bench/compare.sh: find a JDK >= 22, and build when sources changed.
# Sourced, not run.

SANPORT_ROOT=${SANPORT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SANPORT_MIN_JAVA=22

# The feature version of a JDK home (25 for 25.0.1), or nothing when it is not a full JDK.
sanport_jdk_version() {
    [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
    local v
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
    [ -n "$v" ] && echo "${v%%.*}"
}

# Sets JAVA_HOME to a JDK >= 22: JAVA_HOME if new enough, else the newest under /usr/lib/jvm.
sanport_find_jdk() {
    local v best="" best_v=0 d
    if [ -n "${JAVA_HOME:-}" ] && v=$(sanport_jdk_version "$JAVA_HOME") && [ "$v" -ge "$SANPORT_MIN_JAVA" ]; then
        export JAVA_HOME
        return 0
    fi
    for d in /usr/lib/jvm/*/ /opt/java/*/ /opt/jdk*/; do
        d=${d%/}
        [ -d "$d" ] || continue
        v=$(sanport_jdk_version "$d") || continue
        if [ "$v" -ge "$SANPORT_MIN_JAVA" ] && [ "$v" -gt "$best_v" ]; then best=$d; best_v=$v; fi
    done
    if [ -z "$best" ]; then
        echo "sanport: no JDK >= $SANPORT_MIN_JAVA found (JAVA_HOME=${JAVA_HOME:-unset}, nothing suitable in /usr/lib/jvm)." >&2
        echo "sanport: install one, e.g. 'apt-get install openjdk-25-jdk-headless' or Temurin 25, or set JAVA_HOME." >&2
        return 1
    fi
    export JAVA_HOME=$best
}

# The files whose change means a rebuild: every pom and source file.
sanport_sources() {
    find "$SANPORT_ROOT" -path "$SANPORT_ROOT/.git" -prune -o -path '*/target' -prune -o \
        \( -name pom.xml -o -path '*/src/main/*' -o -name '*.bind' \) -type f -print
}

SANPORT_LIB=$SANPORT_ROOT/cli/target/lib
SANPORT_STAMP=$SANPORT_ROOT/cli/target/.built

# Builds the command (no tests) when it was never built or a source is newer than the last build.
sanport_build_if_needed() {
    if [ -f "$SANPORT_STAMP" ] && [ -z "$(sanport_sources | xargs -r -d '\n' sh -c 'find "$@" -newer "$0" -print -quit' "$SANPORT_STAMP" 2>/dev/null)" ]; then
        return 0
    fi
    if ! command -v mvn >/dev/null; then
        echo "sanport: Maven is needed to build sanport: apt-get install maven" >&2
        return 1
    fi
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/sanport-build.XXXXXX.log")
    echo "sanport: building (first run or sources changed; about a minute)..." >&2
    if (cd "$SANPORT_ROOT" && mvn -B -q -pl cli -am package -Dmaven.test.skip=true >"$log" 2>&1); then
        touch "$SANPORT_STAMP"
        rm -f "$log"
    else
        echo "sanport: the build failed; its log ($log):" >&2
        grep -v 'sun.misc.Unsafe\|WARNING: .*Unsafe\|^WARNING: Please consider' "$log" | tail -60 >&2
        return 1
    fi
}

sanport_java_flags=(--enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xss1m)
