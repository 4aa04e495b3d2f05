#!/bin/bash
# device-faults.sh - sanport's durability rules against real failing devices, with the Linux 6.1 NVMe/TCP
# initiator, in ONE guest (tests/vm/run.sh). Builds sanport on this machine (./sanport --version), compiles the
# Java second host (tests/vm/FaultsSecondHost.java) against its jars, then inside the guest:
#   `sanport serve --config` exports one subsystem on 169.254.77.1:4420 with two namespaces:
#     ns 1 = device-mapper `spfault` over a loop device: linear, with sectors 65536-67583 (1 MiB) an `error` target;
#            later switched to `flakey ... error_writes` (writes and flushes fail) and back
#     ns 2 = a healthy loop device, under a kernel-host fio verify loop for the whole run
#   1 target up, nvme connect, both namespaces appear
#   2 ns 1 healthy region: nvme write + read back identical
#   3 ns 1 error region: write -> Write Fault without DNR (plain EIO stays retryable), read -> Unrecovered Read
#     Error; a kernel dd write there fails and the host retried it max_retries times (SMART error count 1+N);
#     the namespace is not sticky after that (a healthy write still succeeds)
#   4 flush fails (flakey error_writes): nvme flush -> Write Fault + DNR
#   5 device healthy again (linear): sticky - write, flush, write zeroes, DSM -> Write Fault + DNR; a kernel dd
#     write fails after ONE attempt (SMART error count +1: DNR, no retry); reads go on with the data of step 2;
#     the log names /dev/mapper/spfault once
#   6 a second host (the Java initiator, own host NQN) connects: ns 2 write/read/compare/flush ok, ns 1 write
#     refused with Write Fault + DNR, ns 1 read ok
#   7 ns 2 fio verify loop: no error in any round, then dd + cmp; the target process never exited
#   8 CC.SHN while the flush fails (flakey again): nvme disconnect, sanport logs "CSTS.CFS set"
#   9 SIGTERM with the device still failing flushes: sanport exits 1, logs that ns 1 refused writes since the
#     flush failed and that the flush at shutdown failed on /dev/mapper/spfault
# Prints PASS/FAIL per check and "N passed, M failed"; exit 1 if anything failed. The guest is killed after 600 s.
#   tests/vm/device-faults.sh     SKIP_BUILD=1 reuses cli/target/lib as built
# The same file runs the guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
EXPECTED=21   # PASS lines when everything works

if [ "${1:-}" = --in-guest ]; then
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags; nothing is built here
  NQN=nqn.2026-12.io.sanport:device-faults TRANSPORT=tcp PORT=4420
  ADDR=169.254.77.1
  WORK=$(mktemp -d /tmp/device-faults.XXXXXX)
  LOG=$WORK/target.log
  MNT=$WORK/mnt
  DM=spfault DMDEV=/dev/mapper/spfault
  SECT=131072                       # ns 1: 64 MiB in 512-byte sectors (= LBAs: the loop device's 512-byte blocks)
  BAD=65536 BADN=2048               # the `error` range: sectors 65536..67583 (LBA == sector)
  GOOD=1024                         # a healthy LBA of ns 1
  export DM_DISABLE_UDEV=1          # no udev in the guest: libdevmapper makes /dev/mapper nodes itself
  JAVA=("$SANPORT_INTEROP_JAVA/bin/java" "${sanport_java_flags[@]}")
  cd "$WORK" || exit 1
  . "$HERE/guest-lib.sh"            # PASS/FAIL, connect
  spid="" L1="" L2="" bgpid=""
  cleanup() {
    touch "$WORK/stop"; [ -n "$bgpid" ] && wait "$bgpid" 2>/dev/null
    nvme disconnect -n "$NQN" >/dev/null 2>&1
    [ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null && sleep 2
    dmsetup remove "$DM" >/dev/null 2>&1
    [ -n "$L1" ] && losetup -d "$L1" 2>/dev/null; [ -n "$L2" ] && losetup -d "$L2" 2>/dev/null
  }
  trap cleanup EXIT

  # the tables of ns 1: healthy, with an error range, failing every write and flush
  t_linear() { echo "0 $SECT linear $L1 0"; }
  t_hole() { echo "0 $BAD linear $L1 0"; echo "$BAD $BADN error"; echo "$((BAD + BADN)) $((SECT - BAD - BADN)) linear $L1 $((BAD + BADN))"; }
  t_flakey() { echo "0 $SECT flakey $L1 0 0 1 1 error_writes"; }   # up 0 s, down 1 s: always down
  table() { local out; out=$("t_$1" | dmsetup reload "$DM" 2>&1 && dmsetup resume "$DM" 2>&1) \
              || { note "dmsetup $1: $out"; return 1; }; note "ns 1 device table now: $(dmsetup table "$DM" | tr '\n' ';')"; }

  # nv CMD...: nvme-cli; NVST = 0 on success, else the status it printed (incl. DNR 0x4000), "" if none
  nv() {
    NVOUT=$(nvme "$@" 2>&1); local rc=$?
    NVST=""
    if [ $rc = 0 ]; then NVST=0
    elif [[ "$NVOUT" =~ NVMe\ status:.*\((0x[0-9a-fA-F]+)\) ]]; then NVST=$(( ${BASH_REMATCH[1]} ))
    fi
  }
  # want WHAT STATUS DNR CMD...: one check of an nvme-cli command's status (SCT/SC, and the DNR bit 0|1)
  want() {
    local what=$1 sc=$2 dnr=$3; shift 3
    nv "$@"
    local txt; txt=$(tail -1 <<<"$NVOUT")
    if [ -n "$NVST" ] && [ $(( NVST & 0x7ff )) = $(( sc )) ] && [ $(( (NVST >> 14) & 1 )) = "$dnr" ]; then
      ok "$what: $txt"
    else
      ko "$what: got '$NVOUT' (want status $sc, DNR $dnr)"
    fi
  }
  errcount() { nvme smart-log "/dev/$CTRL" 2>/dev/null | awk -F: '/num_err_log_entries/ {gsub(/[ ,]/, "", $2); print $2}'; }

  ip link add sp0 type dummy && ip addr add "$ADDR/16" dev sp0 && ip link set sp0 up || { ko "address $ADDR on sp0"; exit 1; }
  modprobe -a dm-mod dm-flakey 2>&1 || { ko "modprobe dm-mod dm-flakey"; exit 1; }
  truncate -s $((SECT * 512)) "$WORK/ns1.img" && truncate -s 64M "$WORK/ns2.img"
  L1=$(losetup -f --show "$WORK/ns1.img") && L2=$(losetup -f --show "$WORK/ns2.img") || { ko "losetup"; exit 1; }
  t_hole | dmsetup create "$DM" >"$WORK/dm.log" 2>&1 && [ -b "$DMDEV" ] || { ko "dmsetup create: $(cat "$WORK/dm.log")"; exit 1; }
  note "ns 1 = $DMDEV over $L1: $(dmsetup table "$DM" | tr '\n' ';') write_cache '$(cat "/sys/dev/block/$(dmsetup info -c --noheadings -o major,minor "$DM")/queue/write_cache")'"
  note "ns 2 = $L2"

  cat > "$WORK/config.json" <<EOF
{ "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "$ADDR", "trsvcid": "$PORT" },
               "subsystems": [ "$NQN" ] } ],
  "subsystems": [ { "nqn": "$NQN", "attr": { "allow_any_host": "1" }, "allowed_hosts": [],
                    "namespaces": [ { "nsid": 1, "enable": 1, "device": { "path": "$DMDEV" } },
                                    { "nsid": 2, "enable": 1, "device": { "path": "$L2" } } ] } ] }
EOF
  # ---- 1. the target, the host
  "${JAVA[@]}" -cp "$SANPORT_INTEROP_LIB/*" io.sanport.cli.Main serve --config "$WORK/config.json" >"$LOG" 2>&1 &
  spid=$!
  for _ in $(seq 2400); do   # up to 240 s: a C1-only JVM under TCG (146 s with the host at load 4)
    ss -Hltn "sport = :$PORT" | grep -q "$ADDR:$PORT" && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  if ss -Hltn "sport = :$PORT" | grep -q "$ADDR:$PORT"; then ok "1 sanport serve --config: listening on $ADDR:$PORT"
  else ko "1 sanport serve does not listen"; dump_log; exit 1; fi

  DEV1="" DEV2=""
  if connect; then
    for _ in $(seq 100); do
      for b in /sys/block/nvme*n*; do
        [[ "${b##*/}" =~ ^nvme[0-9]+n[0-9]+$ ]] && [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
        d=/dev/${b##*/}
        [ -b "$d" ] || { IFS=: read -r ma mi < "$b/dev"; mknod "$d" b "$ma" "$mi"; }
        case "$(cat "$b/nsid")" in 1) DEV1=$d ;; 2) DEV2=$d ;; esac
      done
      [ -n "$DEV1" ] && [ -n "$DEV2" ] && break; sleep 0.1
    done
  fi
  if [ -n "$DEV1" ] && [ -n "$DEV2" ]; then
    ok "1 nvme connect: $CTRL, ns 1 = $DEV1 ($(blockdev --getsize64 "$DEV1") B), ns 2 = $DEV2 ($(blockdev --getsize64 "$DEV2") B)"
  else
    ko "1 nvme connect: ctrl '$CTRL' ns1 '$DEV1' ns2 '$DEV2'"; dump_log; exit 1
  fi
  RETRIES=$(cat /sys/module/nvme_core/parameters/max_retries)

  # ns 2 under the kernel host's I/O for the whole run: rounds of randwrite + crc32c verify, until told to stop
  ns2_loop() {
    local i=0 bad=0
    while [ ! -e "$WORK/stop" ]; do
      i=$((i + 1))
      fio --name="ns2-$i" --filename="$DEV2" --ioengine=io_uring --direct=1 --rw=randwrite --bsrange=4k-64k \
          --iodepth=8 --offset=$(( (i % 3) * 8 ))M --size=8M --verify=crc32c --verify_fatal=1 --verify_state_save=0 \
          --randseed=$i --output-format=terse --terse-version=3 >"$WORK/ns2-fio.out" 2>&1 \
        || { bad=$((bad + 1)); { echo "round $i:"; tail -5 "$WORK/ns2-fio.out"; } >> "$WORK/ns2.err"; }
    done
    echo "$i $bad" > "$WORK/ns2.result"
  }
  ns2_loop & bgpid=$!

  # ---- 2. ns 1 healthy region
  head -c 4096 /dev/urandom > "$WORK/pat"
  nv write "$DEV1" -s $GOOD -c 7 -z 4096 -d "$WORK/pat"; w=$NVST
  nv read "$DEV1" -s $GOOD -c 7 -z 4096 -d "$WORK/back"; r=$NVST
  if [ "$w" = 0 ] && [ "$r" = 0 ] && cmp -s "$WORK/pat" "$WORK/back"; then ok "2 ns 1 LBA $GOOD: nvme write + read back identical"
  else ko "2 ns 1 LBA $GOOD: write status '$w', read status '$r', $(cmp "$WORK/pat" "$WORK/back" 2>&1)"; fi

  # ---- 3. the error range: EIO from the device
  want "3 ns 1 write into the error range: Write Fault, no DNR (plain EIO is retryable)" 0x280 0 \
      write "$DEV1" -s $((BAD + 8)) -c 7 -z 4096 -d "$WORK/pat"
  want "3 ns 1 read of the error range: Unrecovered Read Error, no DNR" 0x281 0 \
      read "$DEV1" -s $((BAD + 8)) -c 7 -z 4096 -d "$WORK/junk"
  e0=$(errcount)
  dd if="$WORK/pat" of="$DEV1" bs=4096 count=1 seek=$((BAD / 8 + 2)) oflag=direct 2>"$WORK/dd.err"; ddrc=$?
  e1=$(errcount)
  if [ $ddrc != 0 ] && [ $((e1 - e0)) = $((1 + RETRIES)) ]; then
    ok "3 kernel dd write into the error range fails ($(tail -1 "$WORK/dd.err")); the host tried $((e1 - e0)) times (1 + max_retries $RETRIES, SMART error count $e0 -> $e1)"
  else
    ko "3 kernel dd write into the error range: rc $ddrc, SMART error count $e0 -> $e1 (want +$((1 + RETRIES)))"
  fi
  dmesg | grep -E "${DEV1#/dev/}.*(sct 0x2 / sc 0x80|Write Fault)" | tail -2 | while read -r l; do note "dmesg: $l"; done
  want "3 not sticky after a plain write error: ns 1 healthy write still succeeds" 0 0 \
      write "$DEV1" -s $((GOOD + 8)) -c 7 -z 4096 -d "$WORK/pat"
  grep -q 'failed on' "$LOG" && ko "3 the log already reports a durability failure: $(grep 'failed on' "$LOG" | head -1)"

  # ---- 4. the flush fails
  table flakey || ko "4 dmsetup: ns 1 to flakey error_writes"
  want "4 nvme flush on ns 1 while the device fails flushes: Write Fault + DNR" 0x280 1 flush "$DEV1"

  # ---- 5. device healthy again: the namespace stays failed for writes
  table linear || ko "5 dmsetup: ns 1 back to linear"
  want "5 sticky: ns 1 write to a healthy LBA refused with Write Fault + DNR" 0x280 1 \
      write "$DEV1" -s $((GOOD + 16)) -c 7 -z 4096 -d "$WORK/pat"
  want "5 sticky: ns 1 flush refused with Write Fault + DNR (the device would succeed now)" 0x280 1 flush "$DEV1"
  want "5 sticky: ns 1 write zeroes refused with Write Fault + DNR" 0x280 1 write-zeroes "$DEV1" -s $GOOD -c 7
  want "5 sticky: ns 1 DSM deallocate refused with Write Fault + DNR" 0x280 1 dsm "$DEV1" -n 1 --ad -s $GOOD -b 8
  e0=$(errcount)
  dd if="$WORK/pat" of="$DEV1" bs=4096 count=1 seek=$((GOOD / 8 + 4)) oflag=direct 2>"$WORK/dd.err"; ddrc=$?
  e1=$(errcount)
  if [ $ddrc != 0 ] && [ $((e1 - e0)) = 1 ]; then
    ok "5 kernel dd write to ns 1 fails after ONE attempt (DNR: no retry; SMART error count $e0 -> $e1)"
  else
    ko "5 kernel dd write to ns 1: rc $ddrc, SMART error count $e0 -> $e1 (want +1)"
  fi
  dmesg | grep -E "${DEV1#/dev/}.*(sct 0x2 / sc 0x80|Write Fault)" | tail -1 | while read -r l; do note "dmesg: $l"; done
  nv read "$DEV1" -s $GOOD -c 7 -z 4096 -d "$WORK/back"
  if [ "$NVST" = 0 ] && cmp -s "$WORK/pat" "$WORK/back"; then ok "5 ns 1 reads go on: LBA $GOOD still holds the data of step 2"
  else ko "5 ns 1 read: status '$NVST' $(cmp "$WORK/pat" "$WORK/back" 2>&1)"; fi
  n=$(grep -c "a flush failed on $DMDEV" "$LOG")
  if [ "$n" = 1 ]; then ok "5 the log says it once, naming the device: $(grep "a flush failed on $DMDEV" "$LOG" | cut -c1-300)"
  else ko "5 'a flush failed on $DMDEV' is in the log $n times (want 1)"; grep -i 'fail' "$LOG" | head -5 | sed 's/^/  | /'; fi

  # ---- 6. another host
  out=$("${JAVA[@]}" -cp "$SANPORT_FAULTS_CLASSES:$SANPORT_INTEROP_LIB/*" FaultsSecondHost "$ADDR" "$PORT" "$NQN" $GOOD 2>&1); rc=$?
  grep -v '^Picked up' <<<"$out" | sed 's/^/     /'
  if [ $rc = 0 ]; then ok "6 second host (Java initiator, own host NQN): ns 2 healthy, ns 1 refuses writes with Write Fault + DNR, reads ok"
  else ko "6 second host (exit $rc)"; fi

  # ---- 7. ns 2 all along, the target alive
  touch "$WORK/stop"; wait "$bgpid"; bgpid=""
  read -r rounds bad < "$WORK/ns2.result"
  if [ "$rounds" -ge 2 ] && [ "$bad" = 0 ]; then ok "7 ns 2 under kernel-host fio randwrite+crc32c verify throughout: $rounds rounds, none failed"
  else ko "7 ns 2 fio rounds $rounds, failed $bad"; sed 's/^/  | /' "$WORK/ns2.err" 2>/dev/null | head -20; fi
  head -c $((4 << 20)) /dev/urandom > "$WORK/big"
  if dd if="$WORK/big" of="$DEV2" bs=1M seek=40 oflag=direct status=none && \
     dd if="$DEV2" of="$WORK/big.back" bs=1M skip=40 count=4 iflag=direct status=none && cmp -s "$WORK/big" "$WORK/big.back"; then
    ok "7 ns 2 dd 4 MiB + read back + cmp identical"
  else ko "7 ns 2 dd + cmp"; fi
  if kill -0 "$spid" 2>/dev/null; then ok "7 the target process is still running"; else ko "7 the target exited"; dump_log; fi

  # ---- 8. shutdown (CC.SHN) while the device fails flushes
  table flakey || ko "8 dmsetup: ns 1 to flakey error_writes"
  t=$EPOCHREALTIME
  out=$(nvme disconnect -n "$NQN" 2>&1)
  dt=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t}")
  dmesg | grep -iE 'shutdown' | tail -2 | while read -r l; do note "dmesg: $l"; done
  if grep -q 'shutdown flush failed, CSTS.CFS set' "$LOG"; then
    ok "8 nvme disconnect ($out, ${dt} s) while flushes fail: $(grep 'CSTS.CFS set' "$LOG" | head -1 | cut -c1-200)"
  else ko "8 nvme disconnect ($out, ${dt} s): no 'CSTS.CFS set' in the log"; fi

  # ---- 9. SIGTERM while the device still fails flushes: the exit flush fails, and says so
  kill -TERM "$spid"
  for _ in $(seq 300); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$spid" 2>/dev/null; then
    ko "9 sanport still runs 30 s after SIGTERM"; kill -KILL "$spid"; wait "$spid"
  else
    wait "$spid"; rc=$?
    bad=""
    [ $rc = 1 ] || bad+=" exit $rc (want 1);"
    grep -q "refused writes since a flush failed on $DMDEV" "$LOG" || bad+=" no 'refused writes since a flush failed on $DMDEV';"
    grep -q "flush at shutdown .*$DMDEV" "$LOG" || bad+=" no 'flush at shutdown ... $DMDEV';"
    grep -q '^stopped$' "$LOG" && bad+=" says 'stopped';"
    if [ -z "$bad" ]; then ok "9 SIGTERM while ns 1 fails flushes: exit 1, the log says why: $(grep "flush at shutdown" "$LOG" | head -1 | cut -c1-200)"
    else ko "9 SIGTERM while ns 1 fails flushes:$bad"; fi
  fi
  table linear || ko "9 dmsetup: ns 1 back to linear"
  spid=""
  note "the target's log (errors):"; grep -Ei 'error|fail|exception|severe' "$LOG" | head -20 | cut -c1-400 | sed 's/^/  | /'
  guest_summary
  exit
fi

while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "device-faults.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
t0=$EPOCHREALTIME
summary() { echo "device-faults wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
"$HERE/prepare.sh" || { echo "FAIL prepare.sh"; summary 0 1; exit 1; }
for t in dmsetup losetup fio nvme ss; do
  command -v $t >/dev/null || { echo "FAIL $t is not installed (dmsetup, mount, fio, nvme-cli, iproute2: scripts/packages/vm.list)"; summary 0 1; exit 1; }
done
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # build on the host (Maven in the guest is 10-40x slower), then run from a copy of the jars
  build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; summary 0 1; exit 1; }
  echo "$build_log" | tail -1
fi
TMP=$(mktemp -d /tmp/sanport-device-faults.XXXXXX)
OUT=$TMP/out
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
"$JAVA_HOME/bin/javac" -d "$TMP/classes" -cp "$TMP/lib/*" "$HERE/FaultsSecondHost.java" \
    || { echo "FAIL javac FaultsSecondHost.java"; summary 0 1; exit 1; }
"$HERE/run.sh" --timeout 600 --env "SANPORT_INTEROP_LIB=$TMP/lib" --env "SANPORT_INTEROP_JAVA=$JAVA_HOME" \
    --env "SANPORT_FAULTS_CLASSES=$TMP/classes" \
    -- "$HERE/device-faults.sh --in-guest" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ "$pass" -ge $EXPECTED ] || { echo "FAIL only $pass checks passed (expected $EXPECTED)"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
