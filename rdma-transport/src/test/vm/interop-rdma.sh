#!/bin/bash
# interop-rdma.sh - sanport's NVMe/RDMA target against the Linux 6.1 kernel initiator (nvme-rdma + nvme-cli) on
# SoftRoCE. Builds sanport on this machine (./sanport --version), copies its jars aside, boots ONE guest
# (tests/vm/run.sh --rdma --nvme on a sparse temporary image) and, inside, exports /dev/nvme0n1 with
# `sanport export --transport rdma` on rxe0's 169.254.77.1:4420, then:
#   1 the target serves             2 nvme discover -t rdma lists the subsystem
#   3 nvme connect -t rdma: a new /dev/nvmeXnY; id-ctrl ioccsz 516, sgls 0x100005, transport rdma
#   4 fio randwrite 4k-128k verify=crc32c, then a verify-only pass
#   5 mkfs.ext4, files + sha256sum, umount, disconnect, reconnect, fsck -n, checksums, umount, disconnect
#   6 nvme disconnect while fio runs; the target stays healthy: reconnect + fio verify
#   7 the direct path: keyed-SGL payload bytes copied by Java = 0 while RDMA READ/WRITE moved data (stats file)
#   8 SIGTERM: sanport exits 0 and says "stopped"
#   with --perf: 4k randread QD32 IOPS over sanport, then over the kernel's nvmet-rdma exporting the same disk
# Prints PASS/FAIL per check and "N passed, M failed"; exit 1 if anything failed.
#   rdma-transport/src/test/vm/interop-rdma.sh [--perf]
# The same file runs the guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)

if [ "${1:-}" = --in-guest ]; then
  PERF=${2:-0}
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags; nothing is built here
  NQN=nqn.2026-11.io.sanport:interop-rdma TRANSPORT=rdma PORT=4420
  ADDR=169.254.77.1
  WORK=$(mktemp -d /tmp/interop.XXXXXX)
  LOG=$WORK/target.log
  STATS=$WORK/rdma-stats
  MNT=$WORK/mnt
  cd "$WORK" || exit 1
  . "$ROOT/tests/vm/guest-lib.sh"  # PASS/FAIL, connect/disconnect, fio_verify, ext4_roundtrip
  spid=""
  trap host_cleanup EXIT
  stat_of() { sed -n "s/^$1=//p" "$STATS" 2>/dev/null; }

  BACK=/dev/nvme0n1
  back_bytes=$(blockdev --getsize64 $BACK)

  # ---- 1. the target
  start_target() {
    SANPORT_RDMA_STATS=$STATS "$SANPORT_INTEROP_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_INTEROP_LIB/*" \
        io.sanport.cli.Main export --device $BACK --transport rdma --address $ADDR --port 4420 --nqn "$NQN" \
        --allow-any-host --discovery-port 0 >"$LOG" 2>&1 &
    spid=$!
    for _ in $(seq 1200); do   # up to 120 s: a C1-only JVM under TCG
      grep -q '^serving' "$LOG" && break
      kill -0 "$spid" 2>/dev/null || break
      sleep 0.1
    done
    grep -q '^serving' "$LOG" && grep -q "listening: rdma $ADDR:4420" "$LOG"
  }
  if start_target; then
    ok "1 sanport exports $BACK ($back_bytes bytes) over RDMA on $ADDR:4420"
  else
    ko "1 sanport does not serve rdma $ADDR:4420"; dump_log; exit 1
  fi

  # ---- 2. discovery (NVMe/RDMA discovery shares port 4420)
  if discovered 4420; then
    ok "2 nvme discover -t rdma lists $NQN at rdma $ADDR:4420 ($(grep -c '^=====Discovery Log Entry' <<<"$disc") entries)"
  else
    ko "2 nvme discover (rc $rc)"; sed 's/^/  | /' <<<"$disc"; dump_log
  fi

  # ---- 3. connect, identify
  if connect; then
    ok "3 nvme connect -t rdma: controller $CTRL, namespace $DEV ($(cat /sys/class/nvme/$CTRL/transport) $(cat /sys/class/nvme/$CTRL/address | tr -d '\n'))"
    idc=$(nvme id-ctrl "/dev/$CTRL" 2>&1)
    f() { sed -nE "s/^$1[[:space:]]*: *//p" <<<"$idc" | head -1 | sed 's/ *$//'; }
    bad=""
    [ "$(f subnqn)" = "$NQN" ] || bad+=" subnqn='$(f subnqn)'"
    [ $(( $(f ioccsz) )) = 516 ] || bad+=" ioccsz='$(f ioccsz)'(want 516)"
    [ $(( $(f sgls) )) = $(( 0x100005 )) ] || bad+=" sgls='$(f sgls)'(want 0x100005)"
    [ $(( $(f icdoff) )) = 0 ] || bad+=" icdoff='$(f icdoff)'"
    [ "$(cat /sys/class/nvme/$CTRL/transport)" = rdma ] || bad+=" transport '$(cat /sys/class/nvme/$CTRL/transport)'"
    [ "$(blockdev --getsize64 "$DEV")" = "$back_bytes" ] || bad+=" $DEV has $(blockdev --getsize64 "$DEV") bytes"
    if [ -z "$bad" ]; then
      ok "3 id-ctrl: ioccsz 516, sgls 0x100005, icdoff 0, mdts $(f mdts), transport rdma; $DEV is $back_bytes bytes like $BACK"
    else
      ko "3 id-ctrl:$bad"
    fi

    # ---- 4. fio verify
    check "4 fio randwrite 4k-128k QD16 over 96 MiB, verify=crc32c, then a verify-only pass" fio_verify plain 96M

    # ---- 5. a filesystem across a reconnect
    check "5 mkfs.ext4, files + sha256, umount, disconnect, reconnect, fsck -n clean, checksums match, disconnect" ext4_roundtrip
  else
    ko "3 nvme connect -t rdma"; dump_log
  fi

  # ---- 6. the host goes away mid-I/O
  six() {
    connect || return 1
    fio --name=midio --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randrw --bsrange=4k-64k --iodepth=32 \
        --time_based --runtime=30 --size=512M >"$WORK/midio.log" 2>&1 &
    local fpid=$! i
    sleep 4
    kill -0 $fpid 2>/dev/null || { note "fio ended before the disconnect: $(tail -3 "$WORK/midio.log")"; return 1; }
    local out
    out=$(nvme disconnect -n "$NQN" 2>&1) || { note "nvme disconnect mid-I/O: $out"; kill $fpid; return 1; }
    for i in $(seq 300); do kill -0 $fpid 2>/dev/null || break; sleep 0.1; done
    kill -0 $fpid 2>/dev/null && { note "fio still runs 30 s after the disconnect"; kill -9 $fpid; }
    wait $fpid
    note "disconnected under fio randrw QD32: $out; fio ended"
    [ -e "$DEV" ] && [ ! -e "/sys/block/${DEV#/dev/}" ] && rm -f "$DEV"
    kill -0 "$spid" 2>/dev/null || { note "sanport died"; return 1; }
    connect || return 1
    fio_verify after-midio 32M || return 1
    disconnect
  }
  check "6 nvme disconnect while fio randrw QD32 runs; the target stays up: reconnect, fio verify, disconnect" six

  # ---- 7. the direct path
  sleep 1.5   # the stats file is rewritten every second
  copied=$(stat_of keyed_bytes_copied) rd=$(stat_of rdma_read_bytes) wr=$(stat_of rdma_write_bytes)
  inv=$(stat_of sends_with_invalidate) inl=$(stat_of in_capsule_bytes_copied)
  note "rdma stats: $(tr '\n' ' ' < "$STATS" 2>/dev/null)"
  if [ "$copied" = 0 ] && [ "${rd:-0}" -gt 0 ] && [ "${wr:-0}" -gt 0 ] && [ "${inv:-0}" -gt 0 ]; then
    ok "7 zero copy: keyed-SGL bytes copied by Java = 0; RDMA READ $((rd >> 20)) MiB into pool buffers, RDMA WRITE $((wr >> 20)) MiB from them, $inv SEND_WITH_INVALIDATE (in-capsule bytes copied: $((inl >> 20)) MiB)"
  else
    ko "7 zero copy: keyed_bytes_copied='$copied' rdma_read_bytes='$rd' rdma_write_bytes='$wr' sends_with_invalidate='$inv'"
  fi

  # ---- perf (optional): 4k randread QD32, sanport then the kernel's nvmet-rdma on the same disk
  randread() {   # prints IOPS
    fio --name=rr --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
        --time_based --runtime=${SANPORT_PERF_SECONDS:-10} --ramp_time=2 --size=1G --output-format=terse --terse-version=3 2>&1 \
      | tail -1 | awk -F';' '{print $8}'
  }
  if [ "$PERF" = 1 ]; then
    if connect; then
      iops_sanport=$(randread); disconnect
      note "PERF sanport nvme-rdma 4k randread QD32: ${iops_sanport} IOPS"
    fi
  fi

  # ---- 8. SIGTERM
  kill -TERM "$spid"; t_term=$(cut -d' ' -f1 /proc/uptime)
  for _ in $(seq 300); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$spid" 2>/dev/null; then
    ko "8 sanport still runs 30 s after SIGTERM"; kill -KILL "$spid"; wait "$spid"
  else
    wait "$spid"; rc=$?
    took=$(awk -v a="$t_term" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f", b - a}')
    # a reactor that kept an RDMA ring operation posted would make its close wait 30 s
    if [ $rc = 0 ] && grep -q '^stopped$' "$LOG" && awk -v t="$took" 'BEGIN{exit !(t < 15)}'; then
      ok "8 SIGTERM: sanport exits 0 in $took s and says 'stopped'"
    else ko "8 SIGTERM: exit $rc after $took s, 'stopped' $(grep -q '^stopped$' "$LOG" && echo printed || echo 'not printed')"; fi
  fi
  spid=""

  if [ "$PERF" = 1 ]; then
    # the kernel target on the same disk, same address and port (configfs)
    K=/sys/kernel/config/nvmet
    KNQN=nqn.2026-11.io.sanport:kernel-rdma
    mkdir $K/subsystems/$KNQN && echo 1 > $K/subsystems/$KNQN/attr_allow_any_host \
      && mkdir $K/subsystems/$KNQN/namespaces/1 && echo -n $BACK > $K/subsystems/$KNQN/namespaces/1/device_path \
      && echo 1 > $K/subsystems/$KNQN/namespaces/1/enable && mkdir $K/ports/1 \
      && echo rdma > $K/ports/1/addr_trtype && echo ipv4 > $K/ports/1/addr_adrfam \
      && echo $ADDR > $K/ports/1/addr_traddr && echo 4420 > $K/ports/1/addr_trsvcid \
      && ln -s $K/subsystems/$KNQN $K/ports/1/subsystems/$KNQN
    SNQN=$NQN; NQN=$KNQN
    if connect; then
      iops_kernel=$(randread); disconnect
      note "PERF kernel nvmet-rdma 4k randread QD32: ${iops_kernel} IOPS"
      note "PERF ratio sanport/nvmet-rdma: $(awk -v a="${iops_sanport:-0}" -v b="${iops_kernel:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
    fi
    NQN=$SNQN
    rm -f $K/ports/1/subsystems/$KNQN; rmdir $K/ports/1
    echo 0 > $K/subsystems/$KNQN/namespaces/1/enable; rmdir $K/subsystems/$KNQN/namespaces/1 $K/subsystems/$KNQN
  fi

  grep -Eiq 'exception|severe' "$LOG" && { note "the target's log has exceptions:"; grep -Ei -A3 'exception|severe' "$LOG" | head -30 | sed 's/^/  | /'; }
  guest_summary
  exit
fi

PERF=0
while [ $# -gt 0 ]; do
  case $1 in
    --perf) PERF=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "interop-rdma.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
t0=$EPOCHREALTIME
summary() { echo "interop-rdma wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
"$ROOT/tests/vm/prepare.sh" || { echo "FAIL prepare.sh"; summary 0 1; exit 1; }
for t in mkfs.ext4 fsck.ext4 fio nvme; do
  command -v $t >/dev/null || { echo "FAIL $t is not installed (e2fsprogs, fio, nvme-cli)"; summary 0 1; exit 1; }
done
# build on the host (Maven in the guest is 10-40x slower), then run from a copy of the jars
build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; summary 0 1; exit 1; }
echo "$build_log" | tail -1
TMP=$(mktemp -d /tmp/sanport-interop-rdma.XXXXXX)
OUT=$TMP/out
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
truncate -s 2G "$TMP/disk.img"
"$ROOT/tests/vm/run.sh" --rdma --nvme "$TMP/disk.img" --timeout $((PERF ? 480 : 330)) \
    --env "SANPORT_INTEROP_LIB=$TMP/lib" --env "SANPORT_INTEROP_JAVA=$JAVA_HOME" \
    -- "$HERE/interop-rdma.sh --in-guest $PERF" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ "$pass" -ge 9 ] || { echo "FAIL only $pass checks passed (expected 9)"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
