#!/usr/bin/env bash
# sanport's whole test suite, every stage. As root on Debian it first installs what the tests need.
#   ./test.sh            all stages
#   ./test.sh --no-vm    skip the VM stage (a real Linux 6.1 guest under QEMU)
set -uo pipefail
SANPORT_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cd "$SANPORT_ROOT"
. scripts/lib.sh

run_vm=1
for a in "$@"; do
    case $a in
        --no-vm) run_vm=0;;
        -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
        *) echo "test.sh: unknown option $a" >&2; exit 2;;
    esac
done

# Debian packages the tests use: the build, liburing for the I/O processor, gcc + -dev headers for the layout
# probes, losetup, and the peers the benchmarks compare against.
PACKAGES=(maven gcc libc6-dev liburing2 liburing-dev libnvme-dev util-linux fio)

declare -a summary=()
passed=0 failed=0
stage() { # stage NAME COMMAND...: runs one stage, records PASS/FAIL with its time
    local name=$1 start=$SECONDS; shift
    echo
    echo "=== stage: $name"
    if "$@"; then
        summary+=("PASS  $name ($((SECONDS - start)) s)"); passed=$((passed + 1))
    else
        summary+=("FAIL  $name ($((SECONDS - start)) s)"); failed=$((failed + 1))
    fi
}
not_run() { summary+=("NOT RUN  $1: $2"); echo; echo "=== stage: $1 NOT RUN: $2"; }

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && { echo "all present: ${PACKAGES[*]}"; return 0; }
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "missing packages: ${missing[*]} (run as root on Debian to install them, or install them yourself)"
        return 1
    fi
    echo "installing: ${missing[*]}"
    apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends \
        "${missing[@]}" >/dev/null
}

maven_tests() {
    sanport_find_jdk || return 1
    echo "JDK: $JAVA_HOME"
    mvn -B verify 2>&1 | grep -v -e 'sun.misc.Unsafe' -e '^WARNING: Please consider' -e '^WARNING: A terminally'
    local rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] && touch "$SANPORT_STAMP"
    return "$rc"
}

launcher() {
    demo_home=$(mktemp -d)
    local home=$demo_home
    trap 'rm -rf "$demo_home"' RETURN
    ./sanport --help | grep -q 'demo' || { echo "sanport --help does not list demo"; return 1; }
    SANPORT_HOME=$home ./sanport demo --seconds 1 || return 1
    [ -f "$home/default.img" ] || { echo "demo did not create the default image"; return 1; }
    ./sanport bench local --device ram:64M --seconds 1 --ramp 0 --json | tail -1 | grep -q '"iops"' || return 1
    # bad input is refused in words, with a non-zero exit
    local err
    err=$(./sanport bench local --device /nonexistent/x.img --seconds 1 2>&1) && return 1
    grep -q 'no such file' <<<"$err" || { echo "unexpected error text: $err"; return 1; }
    err=$(./sanport bench local --device ram:64M --rw sideways 2>&1) && return 1
    grep -q 'randread, randwrite, read or write' <<<"$err" || { echo "unexpected error text: $err"; return 1; }
}

echo "sanport test suite: $(date -u '+%F %T') UTC, $(nproc) cores, kernel $(uname -r)"
stage "packages" install_packages
stage "build and JUnit tests (all modules)" maven_tests
stage "launcher and demo" launcher
if [ "$(id -u)" = 0 ] && command -v fio >/dev/null; then
    stage "benchmark script smoke run (bench/compare.sh local, 1 s each)" bench/compare.sh local --seconds 1 --size 256M
else
    not_run "benchmark script smoke run" "needs root and fio"
fi
if [ $run_vm = 0 ]; then
    not_run "VM (Linux 6.1 guest: SoftRoCE, NVMe, kernel NVMe-oF)" "--no-vm given"
elif [ "$(id -u)" != 0 ] && ! command -v qemu-system-x86_64 >/dev/null; then
    not_run "VM (Linux 6.1 guest: SoftRoCE, NVMe, kernel NVMe-oF)" "no QEMU and not root to install it"
else
    stage "VM harness self-test (Linux 6.1 guest)" tests/vm/selftest.sh
    stage "VM: RDMA verbs + RDMA CM through FFM on SoftRoCE" rdma-transport/src/test/vm/verbs-proof.sh
    stage "VM: I/O processor on NVMe (block and nvme-passthru kinds)" tests/vm/iop-nvme.sh
    stage "VM: Java initiator against the kernel's nvmet-tcp" env SKIP_BUILD=1 client/src/test/vm/kernel-target.sh
    stage "VM: Java initiator over NVMe/RDMA against nvmet-rdma and sanport (SoftRoCE)" client/src/test/vm/rdma-client.sh
    stage "VM: Linux nvme-tcp initiator against sanport's NVMe/TCP target" tests/vm/interop-tcp.sh
    stage "VM: Linux nvme-rdma initiator against sanport's NVMe/RDMA target (SoftRoCE)" rdma-transport/src/test/vm/interop-rdma.sh
fi

if [ "$(id -u)" = 0 ] || docker info >/dev/null 2>&1; then
    stage "containers (docker/test.sh: image, Testcontainers, compose)" docker/test.sh
else
    not_run "containers (image, Testcontainers, compose)" "no Docker engine and not root to start one"
fi

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" = 0 ]
