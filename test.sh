#!/usr/bin/env bash
# sanport's whole test suite, every stage. As root on Debian it first installs what the stages need, from one
# package list per stage (scripts/packages/*.list).
#   ./test.sh            all stages
#   ./test.sh --quick    packages, the Maven build with every JUnit test, the JMH allocation check, the
#                        launcher and demo (no fresh machine, no benchmark, no VM, no containers)
#   ./test.sh --no-vm    all but the VM stages (real Linux 6.1 and 6.12 guests under QEMU)
# A stage passes when it exits 0 and shows that it ran tests; the last line is "N passed, M failed" (stages).
set -uo pipefail
SANPORT_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cd "$SANPORT_ROOT"
. scripts/lib.sh

quick=0 run_vm=1
for a in "$@"; do
    case $a in
        --quick) quick=1; run_vm=0;;
        --no-vm) run_vm=0;;
        -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
        *) echo "test.sh: unknown option $a (see ./test.sh --help)" >&2; exit 2;;
    esac
done

# the package lists of the stages that will run
lists=(runtime build)
[ $quick = 1 ] || lists+=(fresh deb bench containers)
[ $run_vm = 1 ] && lists+=(vm)

declare -a summary=()
passed=0 failed=0
logdir=$(mktemp -d "${TMPDIR:-/tmp}/sanport-test.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

# How many tests a stage's output shows it ran: "N passed, M failed" lines (every script of ours ends with one),
# Surefire's per-module totals, else PASS lines. 0 means the stage ran no test, which is a failure.
tests_ran() {
    awk '
        match($0, /(^|: )[0-9]+ passed, [0-9]+ failed/) { s = substr($0, RSTART, RLENGTH); sub(/^: /, "", s); split(s, w, " "); n += w[1]; next }
        /Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$/ {
            gsub(/[^0-9 ]/, " "); split($0, w, " "); n += w[1] - w[4]; next }
        /(^|: )PASS( |$)/ { p++ }
        END { print (n > 0 ? n : p + 0) }' "$1"
}

stage() { # stage NAME COMMAND...: runs one stage, records PASS/FAIL with its time and test count
    local name=$1 start=$SECONDS log=$logdir/stage.$((passed + failed)).log rc n
    shift
    echo
    echo "=== stage: $name"
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    n=$(tests_ran "$log")
    if [ "$rc" = 0 ] && [ "$n" -gt 0 ]; then
        summary+=("PASS  $name ($n tests, $((SECONDS - start)) s)"); passed=$((passed + 1))
    elif [ "$rc" = 0 ]; then
        summary+=("FAIL  $name: it ran no test ($((SECONDS - start)) s)"); failed=$((failed + 1))
    else
        summary+=("FAIL  $name (exit $rc, $n tests passed, $((SECONDS - start)) s)"); failed=$((failed + 1))
    fi
}
not_run() { summary+=("NOT RUN  $1: $2"); echo; echo "=== stage: $1 NOT RUN: $2"; }

packages() {
    sanport_ensure_packages --who test.sh "${lists[@]}" || return 1
    local n
    n=$(sanport_packages "${lists[@]}" | wc -l)
    echo "packages: the lists ${lists[*]} are installed"
    echo "$n passed, 0 failed"
}

maven_tests() {
    sanport_find_jdk || return 1
    echo "JDK: $JAVA_HOME"
    local log=$logdir/mvn.log
    mvn -B verify 2>&1 | grep -v -e 'sun.misc.Unsafe' -e '^WARNING: Please consider' -e '^WARNING: A terminally' \
        | tee "$log"
    local rc=${PIPESTATUS[0]}
    # every module of the parent pom must have built and run its tests: a module Maven skipped after another
    # failed is a failure of its own, named here
    local want got skipped
    want=$(sanport_modules | wc -l)
    got=$(sed -n '/Reactor Summary/,/BUILD/p' "$log" | grep -c ' SUCCESS \[')
    skipped=$(sed -n '/Reactor Summary/,/BUILD/p' "$log" | awk '/ SKIPPED/ {print $2}' | tr '\n' ' ')
    [ -n "$skipped" ] && echo "test.sh: modules Maven skipped (their tests never ran): $skipped"
    if [ "$rc" = 0 ] && [ "$got" -lt "$want" ]; then
        echo "test.sh: only $got of $want modules succeeded"; rc=1
    fi
    [ "$rc" = 0 ] && touch "$SANPORT_STAMP"
    return "$rc"
}

launcher() {
    local home pass=0
    home=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$home'" RETURN
    check() { # check WHAT COMMAND...: one numbered check
        if "${@:2}"; then echo "PASS $1"; pass=$((pass + 1)); else echo "FAIL $1"; echo "$pass passed, 1 failed"; return 1; fi
    }
    check "sanport --help lists demo" bash -c './sanport --help | grep -q demo' || return 1
    check "sanport demo --seconds 1" env SANPORT_HOME="$home" ./sanport demo --seconds 1 || return 1
    check "the demo created the default image" test -f "$home/default.img" || return 1
    check "bench local --json prints iops" bash -c \
        './sanport bench local --device ram:64M --seconds 1 --ramp 0 --json | tail -1 | grep -q "\"iops\""' || return 1
    # bad input is refused in words, with a non-zero exit
    check "a missing device is refused in words" bash -c \
        '! err=$(./sanport bench local --device /nonexistent/x.img --seconds 1 2>&1) && grep -q "no such file" <<<"$err"' || return 1
    check "a bad --rw is refused in words" bash -c \
        '! err=$(./sanport bench local --device ram:64M --rw sideways 2>&1) && grep -q "randread, randwrite, read or write" <<<"$err"' || return 1
    echo "$pass passed, 0 failed"
}

bench_smoke() {
    local out
    out=$(bench/compare.sh local --seconds 1 --size 256M --rounds 2 --workloads randread_4k_qd32,randwrite_4k_qd32) || return 1
    echo "$out"
    # the last line is one JSON object: per workload the median and min-max of the per-round ratios, both sides'
    # IOPS of each round, and CPU seconds per million I/Os of both
    tail -1 <<<"$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
ok = r["scenario"] == "local" and r["rounds"] == 2
for name in ("randread_4k_qd32", "randwrite_4k_qd32"):
    w = r[name]
    ok = ok and w["min"] <= w["median"] <= w["max"] and r["ratios"][name] == w["median"]
    ok = ok and len(w["sanport"]) == 2 and len(w["peer"]) == 2 and min(w["sanport"] + w["peer"]) > 0
    ok = ok and all(len(w["cpu_s_per_mio"][k + "_runs"]) == 2 and w["cpu_s_per_mio"][k] > 0 for k in ("sanport", "peer"))
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)'
}

echo "sanport test suite: $(date -u '+%F %T') UTC, $(nproc) cores, kernel $(uname -r)$([ $quick = 1 ] && echo ', --quick')"
stage "packages (${lists[*]})" packages
if [ $quick = 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        stage "fresh machine (debootstrap bookworm: ./sanport demo and ./test.sh --quick in a clean clone)" \
            tests/fresh/fresh-machine.sh
        stage "Debian package (packaging/test-deb.sh: apt install into the fresh root, --version, serve, systemd-analyze verify)" \
            packaging/test-deb.sh
    else
        not_run "fresh machine" "needs root (debootstrap, chroot, mounts)"
        not_run "Debian package" "needs root (chroot, mounts)"
    fi
fi
stage "build and JUnit tests (all modules)" maven_tests
# JMH's GC profiler on the hot-path benchmarks of module jmh/ (built by the stage above): at most 1 byte per operation
stage "zero allocation on the hot path (bench/jmh.sh --check-alloc: JMH benchmarks under the GC profiler, <= 1 B/op)" \
    bench/jmh.sh --check-alloc
stage "launcher and demo" launcher
stage "launcher rebuilds after a change in any module (scratch clone)" tests/launcher/rebuild-watch.sh
if [ $quick = 0 ]; then
    stage "soak (150 s: verified I/O on 4 queues, connect/disconnect churn, NVMe/TCP fuzz; fds, threads, RSS flat)" \
        env SANPORT_JAVA_OPTS=-Xmx256m ./sanport bench soak --seconds 150
fi
if [ $quick = 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        stage "benchmark script smoke run (bench/compare.sh local, 2 rounds of 1 s runs, 2 workloads)" bench_smoke
    else
        not_run "benchmark script smoke run" "needs root (loop devices)"
    fi
fi
if [ $quick = 1 ]; then
    :
elif [ $run_vm = 0 ]; then
    not_run "VM (Linux 6.1 guest: SoftRoCE, NVMe, kernel NVMe-oF)" "--no-vm given"
elif [ "$(id -u)" != 0 ] && ! command -v qemu-system-x86_64 >/dev/null; then
    not_run "VM (Linux 6.1 guest: SoftRoCE, NVMe, kernel NVMe-oF)" "no QEMU and not root to install it"
else
    stage "VM harness self-test (Linux 6.1 guest)" tests/vm/selftest.sh
    # the 6.12 guest (Debian 13) is proven by the auth and TLS stages; tests/vm/selftest-612.sh checks the harness
    # alone (kernel host against the kernel target), for when one of them fails
    stage "VM: DH-HMAC-CHAP interop on the 6.12 guest: Linux nvme-tcp host against sanport (every hash, null/ffdhe2048/ffdhe4096, bidirectional, refusals, fio verify, re-authentication, nvme-rdma on SoftRoCE) and the Java host against nvmet-tcp" \
        env SKIP_BUILD=1 tests/vm/auth.sh
    stage "VM: NVMe/TCP TLS 1.3 (PSK) on Linux 6.12: nvme connect --tls (tlshd, .nvme keyring) to sanport, fio + ext4; sanport discover/bench --tls-key to nvmet-tcp tls1.3; wrong key and plain connect refused" \
        env SKIP_BUILD=1 tests/vm/tls.sh
    stage "VM: RDMA verbs + RDMA CM through FFM on SoftRoCE" rdma-transport/src/test/vm/verbs-proof.sh
    stage "VM: I/O processor on NVMe (block and nvme-passthru kinds)" tests/vm/iop-nvme.sh
    stage "VM: Java initiator against the kernel's nvmet-tcp" env SKIP_BUILD=1 client/src/test/vm/kernel-target.sh
    stage "VM: Java initiator over NVMe/RDMA against nvmet-rdma and sanport (SoftRoCE)" client/src/test/vm/rdma-client.sh
    stage "VM: Linux nvme-tcp initiator against sanport's NVMe/TCP target" tests/vm/interop.sh --transport tcp
    stage "VM: Linux nvme-rdma initiator against sanport's NVMe/RDMA target (SoftRoCE)" tests/vm/interop.sh --transport rdma
    stage "VM: device faults (dm error/flakey namespace) under the Linux nvme-tcp initiator: statuses, DNR, sticky flush failure" \
        env SKIP_BUILD=1 tests/vm/device-faults.sh
    stage "VM: native NVMe multipath + ANA (Linux 6.1 nvme-tcp and nvme-rdma): port inaccessible/optimized, address down/up, SIGKILL and rolling restart of two processes under fio verify, ext4 checksums" \
        env SKIP_BUILD=1 tests/vm/multipath.sh
    stage "VM: soak (75 s): Linux nvme-tcp + nvme-rdma fio verify, kernel and Java churn, Java I/O on both transports, NVMe/TCP + NVMe/RDMA fuzz; fds, RSS flat" \
        env SKIP_BUILD=1 tests/vm/soak.sh
fi

if [ $quick = 1 ]; then
    :
elif [ "$(id -u)" = 0 ] || docker info >/dev/null 2>&1; then
    stage "containers (docker/test.sh: image, Testcontainers, compose)" docker/test.sh
else
    not_run "containers (image, Testcontainers, compose)" "no Docker engine and not root to start one"
fi

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
