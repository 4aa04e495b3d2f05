#!/usr/bin/env bash
# The container stage of ./test.sh: builds the image sanport:dev locally (docker/build.sh, no registry) and runs
# the Testcontainers tests of the testcontainers/ module (one target from the host; a client container against
# a target; two peers, one stopped mid-I/O and restarted on its volume).
#
#   docker/test.sh      exit 0: passed; 1: failed; 3: NOT RUN (no Docker engine, and not root to start one)
#
# With no engine answering: as root it installs docker.io (Debian) when dockerd is missing, starts dockerd, and
# stops that dockerd (by its PID) at the end. Sets TESTCONTAINERS_RYUK_DISABLED=true and, for a local engine,
# TESTCONTAINERS_HOST_OVERRIDE=localhost (Testcontainers needs both where no registry is reachable), and
# SANPORT_DOCKER_TESTS=1, which the tests need to run at all (a plain 'mvn verify' skips them).
set -uo pipefail
DOCKER_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
SANPORT_ROOT=$(dirname "$DOCKER_DIR")
cd "$SANPORT_ROOT"
. scripts/lib.sh

say() { echo "docker/test.sh: $*"; }
not_run() {
    echo "docker/test.sh: ************************************************************"
    echo "docker/test.sh: NOT RUN: $*"
    echo "docker/test.sh: ************************************************************"
    exit 3
}
start=$SECONDS
started_pid=""
DOCKERD_LOG=${TMPDIR:-/tmp}/sanport-dockerd.log

# What dockerd changes in the host's network and does not undo on exit: its iptables chains and rules, the
# FORWARD policy (DROP), ip_forward, the docker0 bridge. Undone when this script started that dockerd, so later
# stages (network namespaces, veth) find the machine as it was.
forward_policy="" ip_forward=""
record_network() {
    forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" && !f {print $3; f = 1}')
    ip_forward=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)
}
restore_network() {
    command -v iptables >/dev/null || return 0
    local table chain rule
    for table in filter nat; do
        for chain in FORWARD PREROUTING OUTPUT POSTROUTING; do
            iptables -t "$table" -S "$chain" 2>/dev/null | grep -E -e '-j DOCKER' -e 'docker0' | sed 's/^-A /-D /' \
                | while read -r rule; do eval "iptables -t $table $rule" 2>/dev/null; done
        done
        for chain in DOCKER-USER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER; do
            iptables -t "$table" -F "$chain" 2>/dev/null && iptables -t "$table" -X "$chain" 2>/dev/null
        done
    done
    [ -n "$forward_policy" ] && iptables -P FORWARD "$forward_policy" 2>/dev/null
    [ -n "$ip_forward" ] && echo "$ip_forward" >/proc/sys/net/ipv4/ip_forward 2>/dev/null
    ip link delete docker0 2>/dev/null
    say "restored iptables (FORWARD policy ${forward_policy:-?}, docker chains removed), ip_forward=${ip_forward:-?}, docker0 removed"
}
stop_started_engine() {
    [ -n "$started_pid" ] || return 0
    say "stopping the dockerd this script started (pid $started_pid)"
    kill "$started_pid" 2>/dev/null
    for _ in $(seq 1 40); do
        if ! kill -0 "$started_pid" 2>/dev/null; then
            started_pid=""
            restore_network
            return 0
        fi
        sleep 0.5
    done
    say "dockerd (pid $started_pid) still running after 20 s; left alone"
}
trap stop_started_engine EXIT

# 'docker compose' (v2 plugin) or 'docker-compose' (Debian 12's 1.29), whichever answers
compose_cmd() {
    if docker compose version >/dev/null 2>&1; then echo "docker compose"
    elif command -v docker-compose >/dev/null && docker-compose version >/dev/null 2>&1; then echo docker-compose
    else return 1; fi
}
engine_up() { command -v docker >/dev/null && timeout 15 docker info >/dev/null 2>&1; }

# 1. a Docker engine (scripts/packages/containers.list: docker.io, docker-compose; installed when root)
if [ "$(id -u)" = 0 ]; then
    sanport_ensure_packages --who docker/test.sh containers || { say "FAIL: the container packages are missing"; exit 1; }
fi
if engine_up; then
    say "Docker engine answers: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null)"
else
    [ "$(id -u)" = 0 ] || not_run "no Docker engine answers and not root to start one (start dockerd, or run as root)"
    record_network
    say "starting dockerd (log: $DOCKERD_LOG)"
    dockerd >"$DOCKERD_LOG" 2>&1 &
    started_pid=$!
    for _ in $(seq 1 60); do
        engine_up && break
        kill -0 "$started_pid" 2>/dev/null || break
        sleep 0.5
    done
    if ! engine_up; then
        say "FAIL: dockerd did not come up; the end of its log:"; tail -20 "$DOCKERD_LOG"
        exit 1
    fi
    say "dockerd (pid $started_pid) answers: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null)"
fi

# 2. Testcontainers' environment: never pull (no registry needed), the engine on this host
export TESTCONTAINERS_RYUK_DISABLED=${TESTCONTAINERS_RYUK_DISABLED:-true}
case ${DOCKER_HOST:-unix://} in
    unix://*) export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-localhost};;
esac
export SANPORT_DOCKER_TESTS=1
say "TESTCONTAINERS_RYUK_DISABLED=$TESTCONTAINERS_RYUK_DISABLED TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-unset}"

# 3. the image
t=$SECONDS
say "building the image (docker/build.sh)"
if ! "$DOCKER_DIR/build.sh"; then say "FAIL: the image did not build"; exit 1; fi
say "image built in $((SECONDS - t)) s"

# 4. the Testcontainers tests: the modules they use installed (main code only), then the module's tests
t=$SECONDS
sanport_find_jdk || exit 1
mvn_filter() {
    grep -v -e 'sun.misc.Unsafe' -e '^WARNING: Please consider' -e '^WARNING: A terminally' -e 'WARNING: .*Unsafe'
}
say "mvn -B -q -pl testcontainers -am install -DskipTests (JDK $JAVA_HOME)"
mvn -B -q -Dstyle.color=never -pl testcontainers -am install -DskipTests 2>&1 | mvn_filter | tail -40
if [ "${PIPESTATUS[0]}" != 0 ]; then say "FAIL: the modules did not build"; exit 1; fi
say "mvn -B -pl testcontainers verify"
mvn -B -pl testcontainers verify 2>&1 | mvn_filter | grep -E -e 'Tests run|FAIL|ERROR|BUILD'
rc=${PIPESTATUS[0]}
say "tests took $((SECONDS - t)) s"
for f in testcontainers/target/surefire-reports/*-output.txt; do
    [ -f "$f" ] || continue
    if [ "$rc" != 0 ]; then
        say "--- $f (last 60 lines)"; tail -60 "$f"
    else
        grep -h -E -e ' (cluster|bench|discover) - ' -e '^sanport-remote' -e 'subtype=nvme subsystem' "$f" | sed 's/^/    /' | head -40
    fi
done
[ "$rc" = 0 ] || { say "FAIL: the Testcontainers tests (exit $rc) after $((SECONDS - start)) s"; exit 1; }

# 5. docker/compose.yaml as a user runs it: a target and a client container running 'sanport bench remote'
if compose=$(compose_cmd); then
    t=$SECONDS
    project=sanport-test-$$
    say "$compose -p $project -f docker/compose.yaml up --abort-on-container-exit --exit-code-from client"
    # host ports: free ones, not 4420/8009 (another sanport may hold them)
    SANPORT_TCP_PORT= SANPORT_DISCOVERY_PORT= timeout 180 $compose -p "$project" -f docker/compose.yaml up \
        --abort-on-container-exit --exit-code-from client >"${TMPDIR:-/tmp}/$project.log" 2>&1
    crc=$?
    SANPORT_TCP_PORT= SANPORT_DISCOVERY_PORT= $compose -p "$project" -f docker/compose.yaml down -v >/dev/null 2>&1
    if [ "$crc" != 0 ] || ! grep -q 'sanport-remote randread bs=4k qd=32: .* IOPS' "${TMPDIR:-/tmp}/$project.log"; then
        say "FAIL: compose (exit $crc); its output:"; cat "${TMPDIR:-/tmp}/$project.log"; rm -f "${TMPDIR:-/tmp}/$project.log"
        exit 1
    fi
    grep -E 'exporting|sanport-remote' "${TMPDIR:-/tmp}/$project.log" | sed 's/\x1b\[[0-9;]*m//g; s/^/    /'
    rm -f "${TMPDIR:-/tmp}/$project.log"
    say "compose took $((SECONDS - t)) s"
else
    say "compose: skipped (neither 'docker compose' nor docker-compose, and not root to install it)"
fi
say "PASS in $((SECONDS - start)) s"
