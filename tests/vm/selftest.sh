#!/bin/bash
# selftest.sh - does the test VM give us what sanport's tests need?
# Boots ONE guest (--rdma, --nvme on a sparse temporary image) and checks:
# kernel 6.1, SoftRoCE port active, NVMe block + generic char devices, fio
# io_uring O_DIRECT on the NVMe disk, the kernel's NVMe-oF target exporting a
# loop device over TCP to the kernel's initiator, and Java 25.
# Prints PASS/FAIL lines, the wall time and "N passed, M failed"; exit 1 if
# anything failed. The same file runs the checks inside the guest (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JDK=/usr/lib/jvm/temurin-25-jdk-amd64
ADDR=169.254.77.1

if [ "${1:-}" = --in-guest ]; then
  t0=$EPOCHREALTIME
  check() {   # check NAME CMD...: run CMD, PASS/FAIL with its duration and last output line
    local name=$1 s=$EPOCHREALTIME out rc; shift
    out=$("$@" 2>&1); rc=$?
    local d; d=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $s}")
    if [ $rc = 0 ]; then echo "PASS $name (${d}s) ${out##*$'\n'}"
    else echo "FAIL $name (${d}s, rc=$rc)"; printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'; fi
  }
  kernel() { uname -r; [[ "$(uname -r)" == 6.1.* ]]; }
  rxe() { ibv_devinfo -d rxe0 | grep -Eo 'PORT_ACTIVE.*|active_mtu.*' | tr -s '\t\n' '  '; ibv_devinfo -d rxe0 | grep -q PORT_ACTIVE; }
  nvme_devs() { [ -b /dev/nvme0n1 ] && [ -c /dev/ng0n1 ] && echo "/dev/nvme0n1 (block), /dev/ng0n1 (char)"; }
  fio_nvme() {
    local r; r=$(fio --name=selftest --filename=/dev/nvme0n1 --ioengine=io_uring --direct=1 \
                   --rw=randread --bs=4k --iodepth=16 --runtime=2 --time_based --minimal) || return 1
    local iops; iops=$(cut -d';' -f8 <<< "$r")   # terse v3: field 8 = read IOPS
    echo "randread 4k QD16: $iops IOPS"; [ "${iops:-0}" -gt 0 ]
  }
  nvmeof_tcp() {
    local C=/sys/kernel/config/nvmet NQN=nqn.2024-01.io.sanport:selftest img=/tmp/nvmet.img
    local loop dev before rc=1
    truncate -s 64M $img && loop=$(losetup -f --show $img) || return 1
    mkdir $C/subsystems/$NQN $C/subsystems/$NQN/namespaces/1 $C/ports/1 || return 1
    echo 1 > $C/subsystems/$NQN/attr_allow_any_host
    echo -n "$loop" > $C/subsystems/$NQN/namespaces/1/device_path
    echo 1 > $C/subsystems/$NQN/namespaces/1/enable
    echo tcp > $C/ports/1/addr_trtype; echo ipv4 > $C/ports/1/addr_adrfam
    echo $ADDR > $C/ports/1/addr_traddr; echo 4420 > $C/ports/1/addr_trsvcid
    ln -s $C/subsystems/$NQN $C/ports/1/subsystems/$NQN || return 1
    before=$(ls /dev/nvme*n* 2>/dev/null)
    if nvme discover -t tcp -a $ADDR -s 4420 | grep -q "subnqn: *$NQN" \
       && nvme connect -t tcp -n $NQN -a $ADDR -s 4420; then
      for _ in $(seq 50); do   # the namespace shows up asynchronously
        dev=$(ls /dev/nvme*n* 2>/dev/null | grep -E 'nvme[0-9]+n[0-9]+$' | grep -vxF "$before" | head -n1)
        [ -n "$dev" ] && break; sleep 0.1
      done
      [ -b "$dev" ] && dd if="$dev" of=/dev/null bs=4k count=16 iflag=direct status=none && rc=0
      nvme disconnect -n $NQN > /dev/null || rc=1
      sleep 0.2; [ -e "$dev" ] && { echo "$dev still there after disconnect"; rc=1; }
    fi
    rm -f $C/ports/1/subsystems/$NQN; rmdir $C/ports/1
    echo 0 > $C/subsystems/$NQN/namespaces/1/enable
    rmdir $C/subsystems/$NQN/namespaces/1 $C/subsystems/$NQN; losetup -d "$loop"
    echo "discover + connect + read $dev over tcp $ADDR:4420, disconnected"; return $rc
  }
  java25() {   # all output on failure; the version line last on success
    local v; v=$("$JDK/bin/java" -version 2>&1); printf '%s\n' "$v"
    grep -E '^(openjdk|java) version "25' <<< "$v"
  }

  check "kernel is 6.1" kernel
  check "rxe0 port ACTIVE" rxe
  check "NVMe devices" nvme_devs
  check "fio io_uring O_DIRECT on /dev/nvme0n1" fio_nvme
  check "kernel nvmet/nvme-tcp over $ADDR:4420" nvmeof_tcp
  check "java -version ($JDK)" java25
  echo "guest checks took $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
  exit 0
fi

t0=$EPOCHREALTIME
"$HERE/prepare.sh" || { echo "FAIL prepare.sh"; echo "0 passed, 1 failed"; exit 1; }
IMG=$(mktemp /tmp/sanport-selftest.XXXXXX.img)
OUT=$(mktemp)
trap 'rm -f "$IMG" "$OUT"' EXIT
truncate -s 1G "$IMG"     # sparse: costs no disk
"$HERE/run.sh" --rdma --nvme "$IMG" --timeout 300 -- "$HERE/selftest.sh --in-guest" | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ $((pass + fail)) -ge 6 ] || { echo "FAIL only $((pass + fail)) of 6 checks ran"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
echo "selftest wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
