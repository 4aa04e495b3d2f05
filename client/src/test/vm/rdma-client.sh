#!/bin/bash
# rdma-client.sh - the Java NVMe/RDMA initiator (NvmeRdmaQueue under RemoteController) on SoftRoCE, in ONE guest
# (tests/vm/run.sh --rdma): builds sanport on this machine (./sanport --version), copies its jars aside, then inside:
#   a) the kernel's nvmet-rdma exporting a 64 MiB loop device on rxe0's 169.254.77.1:4420 (discovery on the same
#      port): ClientMain rw-test --transport rdma (discovery, connect with 2 I/O queues, identify, write/read/verify
#      4 KiB..MDTS incl. in-capsule and keyed sizes, 64 concurrent async I/Os, flush, write zeroes, deallocate,
#      idle on KATO 1 s, bogus Identify status, orderly disconnect), ClientMain discover --transport rdma, and CM
#      rejects (admin HSQSIZE 63: STS 0x04 "invalid HSQSIZE"; a closed port)
#   b) `sanport export --transport rdma --device ram:256M` on 169.254.77.1:4421: the same rw-test with 3 I/O
#      queues, `sanport discover --transport rdma`, `sanport bench remote --transport rdma` (randwrite 64k, 2 s),
#      CM rejects in words, SIGTERM: sanport exits 0; then sanport SIGKILLed under the host's I/O: a transport error
# Prints PASS/FAIL per check and "N passed, M failed"; exit 1 if anything failed. The guest is killed after 330 s.
#   client/src/test/vm/rdma-client.sh            SKIP_BUILD=1 reuses cli/target/lib as built
# The same file runs the guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)

if [ "${1:-}" = --in-guest ]; then
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags; nothing is built here
  ADDR=169.254.77.1
  KNQN=nqn.2026-11.io.sanport:client-rdma-kernel
  SNQN=nqn.2026-11.io.sanport:client-rdma-sanport
  C=/sys/kernel/config/nvmet
  WORK=$(mktemp -d /tmp/rdma-client.XXXXXX)
  LOG=$WORK/target.log
  IMG=$WORK/loop.img
  KSIZE=$((64 << 20))
  cd "$WORK" || exit 1
  JAVA=("$SANPORT_INTEROP_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "${SANPORT_CLIENT_CLASSES:+$SANPORT_CLIENT_CLASSES:}$SANPORT_INTEROP_LIB/*")
  . "$ROOT/tests/vm/guest-lib.sh"  # PASS/FAIL helpers, guest_summary
  spid="" LOOP=""
  cleanup() {
    [ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
    rm -f $C/ports/1/subsystems/$KNQN 2>/dev/null; rmdir $C/ports/1 2>/dev/null
    { echo 0 > $C/subsystems/$KNQN/namespaces/1/enable; } 2>/dev/null
    rmdir $C/subsystems/$KNQN/namespaces/1 $C/subsystems/$KNQN 2>/dev/null
    [ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
  }
  trap cleanup EXIT
  # rw-test: every "ok"/"FAIL" line of ClientMain is shown; its exit status is the check
  refused() {   # name port: CM rejects reported with their NVMe/RDMA status in words
    local out; out=$("${JAVA[@]}" io.sanport.client.ClientMain rdma-reject --addr $ADDR --port "$2" --closed-port 4999 2>&1)
    local rc=$?
    grep -v '^Picked up' <<<"$out" | sed 's/^/     /'
    if [ $rc = 0 ]; then ok "$1: admin HSQSIZE 63 rejected with STS 0x04 in words; a closed port fails the connect"
    else ko "$1: rdma-reject (exit $rc)"; fi
  }
  rwtest() {   # name port nqn queues [extra args]
    local name=$1 port=$2 nqn=$3 queues=$4; shift 4
    local t=$EPOCHREALTIME out=$WORK/$name.out
    "${JAVA[@]}" io.sanport.client.ClientMain rw-test --transport rdma --addr $ADDR --port "$port" --nqn "$nqn" \
        --queues "$queues" --discover-port "$port" --kato 3000 "$@" >"$out" 2>&1
    local rc=$?
    grep -v '^Picked up' "$out" | sed 's/^/     /'
    if [ $rc = 0 ]; then ok "$name: rw-test over RDMA, $queues I/O queues ($(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t}") s)"
    else ko "$name: rw-test over RDMA (exit $rc)"
         [ -n "$spid" ] && tail -n 25 "$LOG" | sed 's/^/  target| /'; fi
  }

  # ---- a) kernel nvmet-rdma
  modprobe nvmet-rdma 2>/dev/null
  truncate -s $KSIZE "$IMG"
  LOOP=$(losetup -f --show "$IMG")
  if mkdir $C/subsystems/$KNQN && echo 1 > $C/subsystems/$KNQN/attr_allow_any_host \
      && mkdir $C/subsystems/$KNQN/namespaces/1 && echo -n "$LOOP" > $C/subsystems/$KNQN/namespaces/1/device_path \
      && echo 1 > $C/subsystems/$KNQN/namespaces/1/enable && mkdir $C/ports/1 \
      && echo rdma > $C/ports/1/addr_trtype && echo ipv4 > $C/ports/1/addr_adrfam \
      && echo $ADDR > $C/ports/1/addr_traddr && echo 4420 > $C/ports/1/addr_trsvcid \
      && ln -s $C/subsystems/$KNQN $C/ports/1/subsystems/$KNQN; then
    ok "a0 nvmet-rdma exports $LOOP ($KSIZE B) as $KNQN on rdma $ADDR:4420"
    rwtest a1-kernel 4420 $KNQN 2 --expect-size $KSIZE
    out=$("${JAVA[@]}" io.sanport.client.ClientMain discover --transport rdma --addr $ADDR --port 4420 2>&1 | grep -v '^Picked up')
    if grep -q "subnqn=$KNQN" <<<"$out" && grep -q "trtype=rdma" <<<"$out"; then ok "a2-kernel: discover --transport rdma lists $KNQN"
    else ko "a2-kernel: discover --transport rdma"; sed 's/^/  | /' <<<"$out"; fi
    refused a3-kernel 4420
  else
    ko "a0 nvmet-rdma configfs setup"
  fi
  dmesg | grep -iE 'nvmet|rdma' | tail -n 8 | sed 's/^/  dmesg| /'
  cleanup; LOOP=""

  # ---- b) sanport's own NVMe/RDMA target
  start_sanport() {
    "${JAVA[@]}" io.sanport.cli.Main export --transport rdma --device ram:256M --address $ADDR --port 4421 \
        --nqn $SNQN --allow-any-host --discovery-port 0 >"$LOG" 2>&1 &
    spid=$!
    for _ in $(seq 1200); do
      grep -q '^serving' "$LOG" && break
      kill -0 "$spid" 2>/dev/null || break
      sleep 0.1
    done
    grep -q '^serving' "$LOG"
  }
  if start_sanport; then
    ok "b0 sanport exports ram:256M as $SNQN on rdma $ADDR:4421"
    rwtest b1-sanport 4421 $SNQN 3 --expect-size $((256 << 20))
    # the CLI: sanport discover / bench remote --transport rdma
    out=$("${JAVA[@]}" io.sanport.cli.Main discover --transport rdma -a $ADDR -s 4421 2>&1 | grep -v '^Picked up')
    if grep -q "subnqn=$SNQN" <<<"$out" && grep -q "trtype=rdma" <<<"$out"; then ok "b2 sanport discover --transport rdma lists $SNQN"
    else ko "b2 sanport discover --transport rdma"; sed 's/^/  | /' <<<"$out"; fi
    out=$("${JAVA[@]}" io.sanport.cli.Main bench remote --transport rdma -a $ADDR -s 4421 -n $SNQN --queues 2 \
        --rw randwrite --bs 64k --qd 16 --seconds 2 --ramp 0.5 2>&1 | grep -v '^Picked up'); rc=$?
    sed 's/^/     /' <<<"$out" | tail -n 4
    if [ $rc = 0 ] && grep -qi 'iops' <<<"$out"; then ok "b3 sanport bench remote --transport rdma: randwrite 64k QD16, 2 queues"
    else ko "b3 sanport bench remote --transport rdma (exit $rc)"; fi
    refused b4-sanport 4421
    kill -TERM "$spid"; rc=0; wait "$spid" || rc=$?; spid=""
    if [ $rc = 0 ] && grep -qi stopped "$LOG"; then ok "b5 SIGTERM: sanport exits 0 and says stopped"
    else ko "b5 SIGTERM: exit $rc"; tail -n 15 "$LOG" | sed 's/^/  | /'; fi
    # the target dies under load: the host's I/O must end in a transport error, not hang
    LOG=$WORK/target-b6.log
    if start_sanport; then
      cout=$WORK/until-failure.out
      "${JAVA[@]}" io.sanport.client.ClientMain until-failure --transport rdma --addr $ADDR --port 4421 --nqn $SNQN \
          --queues 2 --kato 1000 >"$cout" 2>&1 &
      cpid=$!
      for _ in $(seq 600); do grep -q '^connected' "$cout" && break; kill -0 $cpid 2>/dev/null || break; sleep 0.1; done
      sleep 1; kill -KILL "$spid"; wait "$spid" 2>/dev/null; spid=""
      t=$EPOCHREALTIME
      for _ in $(seq 600); do kill -0 $cpid 2>/dev/null || break; sleep 0.1; done
      kill -0 $cpid 2>/dev/null && { kill -KILL $cpid; echo "     (host still running 60 s after the target died)"; }
      rc=0; wait $cpid || rc=$?
      grep -v '^Picked up' "$cout" | tail -n 3 | sed 's/^/     /'
      if [ $rc = 0 ] && grep -q '^transport failure' "$cout"; then
        ok "b6 target SIGKILLed under I/O: the host fails with a transport error in $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t}") s"
      else ko "b6 target SIGKILLed under I/O (exit $rc)"; fi
    else ko "b6 sanport restart"; fi
  else
    ko "b0 sanport does not serve rdma $ADDR:4421"; tail -n 25 "$LOG" | sed 's/^/  | /'
  fi
  guest_summary
  exit
fi

t0=$EPOCHREALTIME
summary() { echo "rdma-client wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
"$ROOT/tests/vm/prepare.sh" || { echo "FAIL prepare.sh"; summary 0 1; exit 1; }
if [ "${SKIP_BUILD:-}" != 1 ]; then
  build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; summary 0 1; exit 1; }
  echo "$build_log" | tail -1
fi
TMP=$(mktemp -d /tmp/sanport-rdma-client.XXXXXX)
OUT=$TMP/out
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
"$ROOT/tests/vm/run.sh" --rdma --timeout 600 \
    --env "SANPORT_INTEROP_LIB=$TMP/lib" --env "SANPORT_INTEROP_JAVA=$JAVA_HOME" \
    -- "$HERE/rdma-client.sh --in-guest" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ "$pass" -ge 11 ] || { echo "FAIL only $pass checks passed (expected 11)"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
