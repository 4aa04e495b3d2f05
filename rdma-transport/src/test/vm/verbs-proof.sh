#!/bin/bash
# verbs-proof.sh - the verbs and RDMA CM bindings against a real RDMA device: SoftRoCE rxe0 in the test VM.
# Boots one guest (tests/vm/run.sh --rdma) and runs there, with classes built on this machine (nothing is built
# in the guest):
#   1. io.sanport.bindings.SoftRoceProof (bindings test sources): device list, open, query device/port/GID,
#      PD, 1 MiB MR, CQ + completion channel + SRQ + two hand-connected RC QPs; then RDMA CM on 169.254.77.1:
#      connect with private data (checked by the server), accept, SEND/RECV, RDMA WRITE and READ of patterned
#      data, an RDMA WRITE bandwidth run (64 KiB, 128 deep), disconnect, teardown;
#   2. perftest's ib_write_bw (64 KiB, rdma_cm, GID index 1) in the same guest before and after the Java run,
#      and the ratio of Java to their mean.
# Prints PASS/FAIL lines and "N passed, M failed"; exit 1 if anything failed.
#   usage: verbs-proof.sh [--seconds S]   (bandwidth run length for Java and ib_write_bw; default 4)
# Environment: SANPORT_VERBS_MIN_RATIO (default 0.3): the lowest Java/ib_write_bw ratio that passes. Low on
# purpose: it catches a gross Java-side overhead; on a busy 2-core host consecutive ib_write_bw runs alone
# were measured anywhere from 9 to 58 MB/s.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
ADDR=169.254.77.1
SECONDS_BW=4
MIN_RATIO=${SANPORT_VERBS_MIN_RATIO:-0.3}
CP="$ROOT/bindings/target/classes:$ROOT/bindings/target/test-classes"

if [ "${1:-}" = --in-guest ]; then
  SECONDS_BW=$2
  cd "$ROOT"
  echo "guest: $(uname -r), $(ibv_devices | awk 'NR>2{print $1}' | tr '\n' ' ')"
  perftest() {   # ib_write_bw over RDMA CM (-R) on rxe0, GID 1, 64 KiB writes for SECONDS_BW; prints MB/s
    local log out crc src bw
    log=$(mktemp)
    ib_write_bw -d rxe0 -x 1 -R -s 65536 -D "$SECONDS_BW" -F >"$log" 2>&1 &
    srv=$!
    sleep 1
    out=$(timeout 60 ib_write_bw -d rxe0 -x 1 -R -s 65536 -D "$SECONDS_BW" -F $ADDR 2>&1); crc=$?
    wait $srv; src=$?
    bw=$(awk '$1 == 65536 && NF >= 4 {print $4}' <<<"$out" | tail -n1)
    if [ $crc = 0 ] && [ $src = 0 ] && [ -n "$bw" ]; then
      echo "PASS ib_write_bw 64 KiB, rdma_cm, GID 1 ($1): $bw MB/s (perftest's MB = 2^20 bytes)"
      echo "IB_WRITE_BW_MIBS=$bw"
    else
      echo "FAIL ib_write_bw $1 (client exit $crc, server exit $src)"; printf '%s\n' "$out" | tail -n 8 | sed 's/^/    /'
      sed 's/^/    server: /' "$log" | tail -n 8
    fi
    rm -f "$log"
  }
  # perftest before and after the Java run: the machine may be shared, so bracket the Java figure
  perftest before
  t=$EPOCHREALTIME
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" io.sanport.bindings.SoftRoceProof "$SECONDS_BW" 2>&1 \
    | grep -v '^Picked up JAVA_TOOL_OPTIONS'
  rc=${PIPESTATUS[0]}
  echo "java proof: exit $rc, $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t}") s"
  perftest after
  exit 0
fi

t0=$EPOCHREALTIME
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECONDS_BW=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "verbs-proof.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
. "$ROOT/scripts/lib.sh"
sanport_find_jdk || { echo "FAIL no JDK >= 22"; echo "0 passed, 1 failed"; exit 1; }

# Build on this machine when the classes are missing or older than their sources (never in the guest).
proof=$ROOT/bindings/target/test-classes/io/sanport/bindings/SoftRoceProof.class
if [ ! -f "$proof" ] || [ -n "$(find "$ROOT/bindings/src" "$ROOT/native-headers/src" -newer "$proof" -name '*.java' -print -quit)" ]; then
  echo "building bindings (host)..."
  (cd "$ROOT" && mvn -B -q -o -pl native-headers,bindings test-compile >/tmp/verbs-proof-build.$$ 2>&1) \
    || { tail -n 30 /tmp/verbs-proof-build.$$; rm -f /tmp/verbs-proof-build.$$; echo "FAIL build"; echo "0 passed, 1 failed"; exit 1; }
  rm -f /tmp/verbs-proof-build.$$
fi

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$ROOT/tests/vm/run.sh" --rdma --timeout 200 --env "JAVA_HOME=$JAVA_HOME" -- "$HERE/verbs-proof.sh --in-guest $SECONDS_BW" | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
java=$(sed -n 's/^JAVA_WRITE_BW_MIBS=//p' "$OUT")
# the mean of the perftest runs just before and just after the Java one: on a shared host the speed of the
# guest drifts within seconds, and the two bracket the time the Java run had
ib=$(sed -n 's/^IB_WRITE_BW_MIBS=//p' "$OUT" | awk '{s += $1; n++} END {if (n) printf "%.2f", s / n}')
if [ -n "$java" ] && [ -n "$ib" ]; then
  ratio=$(awk "BEGIN{printf \"%.2f\", $java / $ib}")
  if awk "BEGIN{exit !($ratio >= $MIN_RATIO)}"; then
    echo "PASS RDMA WRITE 64 KiB bandwidth: Java $java MiB/s vs ib_write_bw $ib MiB/s (mean of before/after), ratio $ratio"; pass=$((pass + 1))
  else
    echo "FAIL RDMA WRITE 64 KiB bandwidth: Java $java MiB/s vs ib_write_bw $ib MiB/s, ratio $ratio < $MIN_RATIO"; fail=$((fail + 1))
  fi
else
  echo "FAIL bandwidth ratio: missing a figure (java '${java}', ib_write_bw '${ib}')"; fail=$((fail + 1))
fi
grep -q '^JAVA_WRITE_BW_MIBS=' "$OUT" && grep -q ' passed, 0 failed$' "$OUT" \
  || { echo "FAIL the Java proof did not finish cleanly"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
echo "verbs-proof wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
