#!/bin/bash
# iop-nvme.sh - sanport's I/O processor on a real NVMe namespace (Linux 6.1 guest, QEMU's emulated NVMe).
# Builds iop and its tests on this machine, boots ONE guest with --nvme on a sparse temporary image, and runs
# io.sanport.iop.NvmeDeviceCheck there against /dev/nvme0n1 (block kind, O_DIRECT) and /dev/ng0n1
# (nvme-passthru kind, NVMe commands through IORING_OP_URING_CMD): patterns at random offsets in mixed sizes,
# write zeroes, discard, flush, FUA, out-of-range LBAs (refused by the reactor; the NVMe status from the
# controller), both kinds in one ring, I/O larger than the controller's MDTS (QEMU's nvme with mdts=4: 64 KiB,
# below the 128 KiB I/Os: the reactor splits them for nvme-passthru); then 4k randread QD32 of each kind next to fio (io_uring on nvme0n1,
# io_uring_cmd on ng0n1) with the IOPS ratios.
# Prints PASS/FAIL lines and "N passed, M failed"; exit 1 if anything failed. About 1.5 minutes here.
#   tests/vm/iop-nvme.sh [--seconds N]      N = benchmark seconds per run (default 5)
# The same file runs the guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
JDK=/usr/lib/jvm/temurin-25-jdk-amd64

if [ "${1:-}" = --in-guest ]; then
  secs=${SANPORT_IOP_BENCH_SECONDS:-5}
  out=/tmp/iop-nvme.out
  "$JDK/bin/java" --enable-native-access=ALL-UNNAMED -cp "$SANPORT_IOP_CP" io.sanport.iop.NvmeDeviceCheck \
      /dev/nvme0n1 /dev/ng0n1 "$secs" "$((64 * 1024))" 2>&1 | grep -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$out"
  rc=${PIPESTATUS[0]}
  fio_iops() {   # fio_iops ARGS...: read IOPS of a 4k randread QD32 run, the same shape as the Java bench
    fio --name=iop-nvme --rw=randread --bs=4k --iodepth=32 --ramp_time=1 --runtime="$secs" --time_based \
        --norandommap --randrepeat=0 --minimal "$@" | cut -d';' -f8
  }
  # engine options go after --ioengine. Registered files and buffers as sanport's rings have; fio registers one
  # buffer per I/O slot, which 6.1's passthrough takes (sanport's one pool region it does not: see NvmePassthruDevice)
  f_blk=$(fio_iops --filename=/dev/nvme0n1 --ioengine=io_uring --direct=1 --registerfiles=1 --fixedbufs=1)
  f_cmd=$(fio_iops --filename=/dev/ng0n1 --ioengine=io_uring_cmd --cmd_type=nvme --registerfiles=1 --fixedbufs=1)
  s_blk=$(awk '$1 == "BENCH" && $2 == "block" {print $4}' "$out")
  s_cmd=$(awk '$1 == "BENCH" && $2 == "nvme-passthru" {print $4}' "$out")
  ratio() { awk -v s="${1:-0}" -v f="${2:-0}" 'BEGIN { if (f > 0) printf "%.2f", s / f; else print "n/a" }'; }
  echo "IOPS randread 4k QD32, ${secs}s:"
  echo "  /dev/nvme0n1  sanport block         ${s_blk:-?}  fio io_uring      ${f_blk:-?}  ratio $(ratio "$s_blk" "$f_blk")"
  echo "  /dev/ng0n1    sanport nvme-passthru ${s_cmd:-?}  fio io_uring_cmd  ${f_cmd:-?}  ratio $(ratio "$s_cmd" "$f_cmd")"
  echo "  sanport nvme-passthru / block: $(ratio "$s_cmd" "$s_blk"); fio io_uring_cmd / io_uring: $(ratio "$f_cmd" "$f_blk")"
  if [ "${f_blk:-0}" -gt 0 ] && [ "${f_cmd:-0}" -gt 0 ]; then echo "PASS fio ran on both devices"
  else echo "FAIL fio: io_uring '${f_blk:-}' io_uring_cmd '${f_cmd:-}'"; rc=1; fi
  exit "$rc"
fi

secs=5
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) secs=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "iop-nvme.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
t0=$EPOCHREALTIME
"$HERE/prepare.sh" || { echo "FAIL prepare.sh"; echo "0 passed, 1 failed"; exit 1; }
IMG=$(mktemp /tmp/sanport-iop-nvme.XXXXXX.img)
CP=$(mktemp /tmp/sanport-iop-nvme.XXXXXX.cp)
OUT=$(mktemp)
trap 'rm -f "$IMG" "$CP" "$OUT"' EXIT
truncate -s 2G "$IMG"     # sparse: costs no disk

# compile on the host (Maven in the guest is 10-40x slower); reactor modules resolve to their target/classes
build_log=$(cd "$ROOT" && JAVA_HOME=$JDK mvn -B -o -q -pl iop -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$CP" 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; echo "0 passed, 1 failed"; exit 1; }
cp="$ROOT/iop/target/classes:$ROOT/iop/target/test-classes:$(cat "$CP")"

"$HERE/run.sh" --nvme "$IMG" --nvme-opts mdts=4 --timeout 400 --env "SANPORT_IOP_CP=$cp" --env "SANPORT_IOP_BENCH_SECONDS=$secs" \
    -- "$HERE/iop-nvme.sh --in-guest" | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ "$pass" -ge 22 ] || { echo "FAIL only $pass checks passed (expected at least 22)"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
echo "iop-nvme wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
