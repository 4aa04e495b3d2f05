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

# The Maven modules of the build, from the parent pom's <module> list.
sanport_modules() {
    sed -n 's:.*<module>\(.*\)</module>.*:\1:p' "$SANPORT_ROOT/pom.xml"
}

# The files whose change means a rebuild: the parent pom, and each module's pom, main sources and resources
# (the source roots of the modules, not a pattern: a package called "target" is a source like any other), and
# the header lists the bindings mirror.
sanport_sources() {
    local m roots=()
    printf '%s\n' "$SANPORT_ROOT/pom.xml"
    while IFS= read -r m; do
        [ -f "$SANPORT_ROOT/$m/pom.xml" ] && printf '%s\n' "$SANPORT_ROOT/$m/pom.xml"
        [ -d "$SANPORT_ROOT/$m/src/main" ] && roots+=("$SANPORT_ROOT/$m/src/main")
    done < <(sanport_modules)
    [ ${#roots[@]} = 0 ] || find "${roots[@]}" -type f -print
    find "$SANPORT_ROOT/native-headers" -maxdepth 1 -name '*.bind' -type f -print
}

# Prints the first source newer than the last build (nothing when the build is current or never happened).
sanport_stale_source() {
    [ -f "$SANPORT_STAMP" ] || return 0
    sanport_sources | xargs -r -d '\n' sh -c 'find "$@" -newer "$0" -print -quit' "$SANPORT_STAMP" 2>/dev/null | head -1
}

# Whether the command must be (re)built: never built, or a source changed since.
sanport_needs_build() {
    [ ! -f "$SANPORT_STAMP" ] || [ -n "$(sanport_stale_source)" ]
}

SANPORT_LIB=$SANPORT_ROOT/cli/target/lib
SANPORT_STAMP=$SANPORT_ROOT/cli/target/.built

# Builds the command (no tests) when it was never built or a source is newer than the last build.
sanport_build_if_needed() {
    sanport_needs_build || return 0
    if ! command -v mvn >/dev/null; then
        sanport_ensure_packages buildtool || return 1
    fi
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/sanport-build.XXXXXX.log")
    echo "sanport: building (first run or sources changed; about a minute)..." >&2
    # -DskipTests, not -Dmaven.test.skip: the transports' tests depend on host-driver's contract test-jar, which
    # Maven resolves even when it compiles no test. clean: javac inlines another module's static final constants
    # (NVMe message IDs, status codes), and Maven's incremental compile does not recompile a module whose own sources
    # did not change, so after an update it could keep the old values
    if (cd "$SANPORT_ROOT" && mvn -B -q -pl cli -am clean package -DskipTests >"$log" 2>&1); then
        touch "$SANPORT_STAMP"
        rm -f "$log"
    else
        echo "sanport: the build failed; its log ($log):" >&2
        grep -v 'sun.misc.Unsafe\|WARNING: .*Unsafe\|^WARNING: Please consider' "$log" | tail -60 >&2
        return 1
    fi
}

sanport_java_flags=(--enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xss1m)

# --- Debian packages -------------------------------------------------------------------------------------------
# Each stage's packages are one list under scripts/packages/ (NAME.list: a package a line, '#' comments).

# The packages of the named lists, one a line, each once.
sanport_packages() {
    local l files=()
    for l in "$@"; do
        files+=("$SANPORT_ROOT/scripts/packages/$l.list")
        [ -f "${files[-1]}" ] || { echo "sanport: no package list ${files[-1]}" >&2; return 1; }
    done
    [ ${#files[@]} = 0 ] || sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "${files[@]}" | awk '!seen[$0]++'
}

# The packages of the named lists that are not installed (nothing when all are, or when this is no Debian).
sanport_missing_packages() {
    command -v dpkg-query >/dev/null || return 0
    local list
    list=$(sanport_packages "$@") || return 1
    [ -n "$list" ] || return 0
    local -a want
    mapfile -t want <<<"$list"
    # one dpkg-query for all: ./sanport runs this on every start (a package dpkg never heard of prints nothing)
    local -A ok=()
    local name status p
    while read -r name status; do
        [ "$status" = installed ] && ok[$name]=1
    # Debian 13 renamed libraries in the 64-bit time_t transition (librdmacm1 -> librdmacm1t64, which provides
    # the old name; apt installs it when asked for the old one): either name counts
    done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${want[@]}" "${want[@]/%/t64}" 2>/dev/null || true)
    for p in "${want[@]}"; do
        [ -n "${ok[$p]:-}" ] || [ -n "${ok[${p}t64]:-}" ] || echo "$p"
    done
}

# Installs what the named lists need and is missing: as root on Debian with apt-get (one line saying what, apt's
# output only when it fails); otherwise prints the one command that installs it and fails.
#   sanport_ensure_packages [--who NAME] LIST...
sanport_ensure_packages() {
    local who=sanport
    [ "${1:-}" = --who ] && { who=$2; shift 2; }
    local list
    list=$(sanport_missing_packages "$@") || return 1
    [ -n "$list" ] || return 0
    local -a missing
    mapfile -t missing <<<"$list"
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "$who: missing Debian packages ($*): ${missing[*]}" >&2
        echo "$who: install them with:  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        return 1
    fi
    echo "$who: installing ${missing[*]} (the $* packages)" >&2
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/sanport-apt.XXXXXX.log")
    local -a apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 --no-install-recommends)
    # a brand-new machine may have stale or no package lists: update once and retry
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" >"$log" 2>&1; then
        if ! { apt-get -q -o DPkg::Lock::Timeout=600 update >>"$log" 2>&1 &&
               DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" >>"$log" 2>&1; }; then
            echo "$who: apt-get install ${missing[*]} failed:" >&2
            tail -25 "$log" >&2
            rm -f "$log"
            return 1
        fi
    fi
    rm -f "$log"
    list=$(sanport_missing_packages "$@") || return 1
    [ -z "$list" ] || { echo "$who: still missing after apt-get: $(echo $list)" >&2; return 1; }
}
