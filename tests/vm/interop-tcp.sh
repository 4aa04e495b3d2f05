#!/bin/bash
# interop-tcp.sh - sanport's NVMe/TCP target against the Linux 6.1 kernel initiator (nvme-tcp + nvme-cli).
# Builds sanport on this machine (./sanport --version), copies its jars aside, boots ONE guest with --nvme on
# a sparse temporary image and, inside, exports /dev/nvme0n1 with `sanport export` on 169.254.77.1:4420
# (discovery on 8009, dummy netdev sp0), then:
#   1 the target listens            2 nvme discover lists the subsystem
#   3 nvme connect: a new /dev/nvmeXnY; id-ctrl / id-ns fields (nvmeof.md §7.5) and size vs the backing disk
#   4 fio randwrite verify=crc32c, then a verify-only pass
#   5 mkfs.ext4, files + sha256sum, umount, disconnect, reconnect, fsck -n, checksums, umount, disconnect
#   6 connect --hdr-digest --data-digest, fio verify, disconnect
#   7 SIGTERM: sanport exits 0 and says "stopped"
# Prints PASS/FAIL per check and "N passed, M failed"; exit 1 if anything failed. 2.5 min here (2 busy cores);
# the guest is killed after 330 s.
#   tests/vm/interop-tcp.sh      (the target's log tail is printed when a check fails)
# The same file runs the guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "${1:-}" = --in-guest ]; then
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags; nothing is built here
  NQN=nqn.2026-11.io.sanport:interop-tcp
  ADDR=169.254.77.1
  WORK=$(mktemp -d /tmp/interop.XXXXXX)
  LOG=$WORK/target.log
  MNT=$WORK/mnt
  cd "$WORK" || exit 1              # fio state files etc. stay in the guest's tmpfs
  pass=0 fail=0
  t0=$(cut -d' ' -f1 /proc/uptime)
  el() { awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%5.1fs", b - a}'; }
  ok() { echo "PASS [$(el)] $*"; pass=$((pass + 1)); }
  ko() { echo "FAIL [$(el)] $*"; fail=$((fail + 1)); }
  check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
  note() { echo "     [$(el)] $*"; }
  spid=""
  cleanup() {
    mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
    nvme disconnect -n "$NQN" >/dev/null 2>&1
    [ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
  }
  trap cleanup EXIT
  dump_log() { echo "---- sanport log (tail) ----"; tail -n "${1:-25}" "$LOG" | sed 's/^/  | /'; echo "----"; }

  ip link add sp0 type dummy && ip addr add "$ADDR/16" dev sp0 && ip link set sp0 up || { ko "address $ADDR on sp0"; exit 1; }
  BACK=/dev/nvme0n1
  back_bytes=$(blockdev --getsize64 $BACK)
  back_lbads=$(awk '{print int(log($1)/log(2) + 0.5)}' /sys/block/nvme0n1/queue/logical_block_size)

  # ---- 1. the target
  "$SANPORT_INTEROP_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_INTEROP_LIB/*" io.sanport.cli.Main export \
      --device $BACK --address $ADDR --port 4420 --nqn "$NQN" --allow-any-host --discovery-port 8009 >"$LOG" 2>&1 &
  spid=$!
  listening() { ss -Hltn "sport = :$1" | grep -q "$ADDR:$1"; }
  for _ in $(seq 1200); do   # up to 120 s: a C1-only JVM under TCG (5 s here when the machine is idle)
    listening 4420 && listening 8009 && grep -q '^serving' "$LOG" && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  if listening 4420 && listening 8009 && grep -q '^serving' "$LOG"; then
    ok "1 sanport exports $BACK ($back_bytes bytes) on $ADDR:4420, discovery on 8009"
  else
    ko "1 sanport does not listen on $ADDR:4420 and :8009"; dump_log; exit 1
  fi
  grep -q "nvme connect -t tcp -a $ADDR -s 4420 -n $NQN" "$LOG" || ko "1 the 'nvme connect' line is not printed"

  # ---- 2. discovery
  disc=$(nvme discover -t tcp -a $ADDR -s 8009 2>&1); rc=$?
  if [ $rc = 0 ] && grep -Eq "subnqn: +$NQN\$" <<<"$disc" && grep -Eq 'trsvcid: +4420$' <<<"$disc" \
      && grep -Eq "traddr: +$ADDR\$" <<<"$disc" && grep -Eq 'trtype: +tcp$' <<<"$disc"; then
    ok "2 nvme discover lists $NQN at tcp $ADDR:4420 ($(grep -c '^=====Discovery Log Entry' <<<"$disc") entries)"
  else
    ko "2 nvme discover (rc $rc)"; sed 's/^/  | /' <<<"$disc"; dump_log
  fi

  # ---- helpers: connect and find the namespace's block device by its subsystem NQN (no udev here)
  CTRL="" DEV=""
  connect() {   # connect [nvme connect options]: sets CTRL (nvmeX) and DEV (/dev/nvmeYn1)
    local out c b i
    CTRL="" DEV=""
    out=$(nvme connect -t tcp -a $ADDR -s 4420 -n "$NQN" "$@" 2>&1) || { note "nvme connect $*: $out"; return 1; }
    for i in $(seq 200); do
      for c in /sys/class/nvme/nvme*; do
        [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] && [ "$(cat "$c/state" 2>/dev/null)" = live ] && CTRL=${c##*/}
      done
      # the namespace: a block device whose parent (controller, or the subsystem with native multipath) has our NQN
      for b in /sys/block/nvme*n*; do
        [[ "${b##*/}" =~ ^nvme[0-9]+n[0-9]+$ ]] && [ -r "$b/dev" ] || continue   # not the hidden paths nvmeXcYnZ
        [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
        DEV=/dev/${b##*/}
        if [ ! -b "$DEV" ]; then   # no udev: make the node from sysfs
          IFS=: read -r ma mi < "$b/dev"; mknod "$DEV" b "$ma" "$mi"
        fi
      done
      [ -n "$CTRL" ] && [ -n "$DEV" ] && [ -b "$DEV" ] && blockdev --getsize64 "$DEV" >/dev/null 2>&1 && return 0
      sleep 0.1
    done
    note "connected ($out) but no live controller/namespace: ctrl '$CTRL' dev '$DEV'"; return 1
  }
  disconnect() {
    local out i
    out=$(nvme disconnect -n "$NQN" 2>&1) || { note "nvme disconnect: $out"; return 1; }
    grep -q 'disconnected 1 controller' <<<"$out" || { note "nvme disconnect: $out"; return 1; }
    for i in $(seq 100); do [ -e "/sys/block/${DEV#/dev/}" ] || break; sleep 0.1; done
    [ ! -e "/sys/block/${DEV#/dev/}" ] && rm -f "$DEV"   # a node we made ourselves would dangle
    [ ! -e "/sys/block/${DEV#/dev/}" ]
  }
  fio_verify() {   # fio_verify NAME: randwrite 4k-128k QD16 with crc32c verify over 64 MiB at 1 GiB, then verify only
    local common=(--filename="$DEV" --ioengine=io_uring --direct=1 --rw=randwrite --bsrange=4k-128k --iodepth=16
                  --offset=1G --size=64M --verify=crc32c --verify_fatal=1 --verify_state_save=0 --randseed=4242
                  --output-format=terse --terse-version=3)
    local out
    out=$(fio --name="$1-write" "${common[@]}" 2>&1) || { note "fio write+verify: $(tail -5 <<<"$out")"; return 1; }
    note "fio $1 randwrite+verify: $(awk -F';' '{printf "write %d IOPS %.1f MiB/s", $49, $48/1024}' <<<"$(tail -1 <<<"$out")")"
    out=$(fio --name="$1-verify" "${common[@]}" --verify_only=1 2>&1) || { note "fio verify_only: $(tail -5 <<<"$out")"; return 1; }
    note "fio $1 verify-only pass: $(awk -F';' '{printf "read %d IOPS %.1f MiB/s", $8, $7/1024}' <<<"$(tail -1 <<<"$out")")"
  }

  # ---- 3. connect, identify
  if connect; then
    ok "3 nvme connect: controller $CTRL, namespace $DEV ($(cat /sys/class/nvme/$CTRL/transport) $(cat /sys/class/nvme/$CTRL/address | tr -d '\n'))"
    idc=$(nvme id-ctrl "/dev/$CTRL" 2>&1)
    declare -A IC=() IN=()
    fields() {   # fields ARRAY TEXT: "key : value" lines of nvme-cli's output into ARRAY (first one wins)
      local -n into=$1; local line
      while IFS= read -r line; do
        [[ "$line" =~ ^([a-z0-9]+)[[:space:]]*:[[:space:]]*(.*[^[:space:]])?[[:space:]]*$ ]] || continue
        [ -n "${into[${BASH_REMATCH[1]}]+x}" ] || into[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
      done <<<"$2"
    }
    fields IC "$idc"
    f() { echo "${IC[$1]:-}"; }
    # the default serial of TargetConfig.defaultSerial(nqn): %08x of the length, %08x of String.hashCode()
    h=0; for ((i = 0; i < ${#NQN}; i++)); do printf -v c '%d' "'${NQN:i:1}"; h=$(( (h * 31 + c) & 0xFFFFFFFF )); done
    printf -v want_sn '%08x%08x' ${#NQN} $h
    bad=""
    expect() { [ "$(f "$1")" = "$2" ] || bad+=" $1='$(f "$1")'(want '$2')"; }
    expect_n() { [ $(( $(f "$1") )) = $(( $2 )) ] 2>/dev/null || bad+=" $1='$(f "$1")'(want $2)"; }
    expect subnqn "$NQN"; expect mn sanport; expect sn "$want_sn"
    expect_n cntrltype 1; expect_n ioccsz 516; expect_n iorcsz 1; expect_n icdoff 0; expect_n msdbd 1; expect_n kas 10
    expect_n sgls 0x100001; expect_n cmic 0x3; expect_n oaes 0x100; expect_n ver 0x10300; expect_n nn 1
    expect_n cntlid "$(cat /sys/class/nvme/$CTRL/cntlid)"
    mdts=$(f mdts); [[ "$mdts" =~ ^[5-8]$ ]] || bad+=" mdts='$mdts'(want 5..8)"
    maxcmd=$(f maxcmd); [ "${maxcmd:-0}" -ge 128 ] 2>/dev/null || bad+=" maxcmd='$maxcmd'(want >=128)"
    [ $(( $(f oncs) & 0xC )) = 12 ] || bad+=" oncs='$(f oncs)'(want 0xc: write zeroes + DSM)"
    [ "$(cat /sys/class/nvme/$CTRL/serial | tr -d ' \n')" = "$want_sn" ] || bad+=" sysfs serial"
    if [ -z "$bad" ]; then
      ok "3 id-ctrl: subnqn, mn=sanport, sn=$want_sn, cntlid $(f cntlid), mdts $mdts, maxcmd $maxcmd, ioccsz 516, iorcsz 1, icdoff 0, msdbd 1, sgls 0x100001, kas 10, cmic 0x3, oaes 0x100, oncs $(f oncs), ver 1.3"
    else
      ko "3 id-ctrl:$bad"
    fi
    ns_id=$(cat /sys/block/${DEV#/dev/}/nsid 2>/dev/null || echo 1)
    idn=$(nvme id-ns "/dev/$CTRL" -n "$ns_id" 2>&1)
    fields IN "$idn"
    g() { echo "${IN[$1]:-}"; }
    lbads=$(grep -E '^lbaf +0 ' <<<"$idn" | sed -E 's/.*lbads:([0-9]+).*/\1/')
    nsze=$(( $(g nsze) ))
    bad=""
    [ "$lbads" = "$back_lbads" ] || bad+=" lbaf0.lbads='$lbads'(want $back_lbads)"
    [ $(( nsze << ${lbads:-0} )) = "$back_bytes" ] || bad+=" nsze=$nsze(x2^$lbads != $back_bytes)"
    [ $(( $(g ncap) )) = $nsze ] && [ $(( $(g nuse) )) = $nsze ] || bad+=" ncap/nuse='$(g ncap)/$(g nuse)'"
    [ $(( $(g nlbaf) )) = 0 ] && [ $(( $(g flbas) )) = 0 ] || bad+=" nlbaf/flbas='$(g nlbaf)/$(g flbas)'"
    [ $(( $(g nmic) )) = 1 ] || bad+=" nmic='$(g nmic)'"
    [[ "$(g nguid)" =~ ^[0-9a-f]{32}$ && "$(g nguid)" != 00000000000000000000000000000000 ]] || bad+=" nguid='$(g nguid)'"
    [ "$(blockdev --getsize64 "$DEV")" = "$back_bytes" ] || bad+=" $DEV has $(blockdev --getsize64 "$DEV") bytes"
    [ "$(cat /sys/block/${DEV#/dev/}/queue/logical_block_size)" = $((1 << back_lbads)) ] || bad+=" $DEV logical block size"
    if [ -z "$bad" ]; then
      ok "3 id-ns: nsze=ncap=nuse=$nsze, nlbaf 0, flbas 0, lbads $lbads, nmic 1, nguid $(g nguid); $DEV is $back_bytes bytes like $BACK"
    else
      ko "3 id-ns:$bad"; sed 's/^/  | /' <<<"$idn" | head -40
    fi

    # ---- 4. fio verify
    check "4 fio randwrite 4k-128k QD16 over 64 MiB, verify=crc32c, then a verify-only pass" fio_verify plain

    # ---- 5. a filesystem across a reconnect
    five() {
      mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$DEV" >"$WORK/mkfs.log" 2>&1 \
          || { note "mkfs: $(cat "$WORK/mkfs.log")"; return 1; }
      mkdir -p "$MNT" && mount -t ext4 "$DEV" "$MNT" || { note "mount failed"; return 1; }
      mkdir "$MNT/d" && local i
      for i in $(seq 12); do head -c $(( (i * 7919 % 23 + 1) * 262144 + i * 511 )) /dev/urandom > "$MNT/d/f$i" || return 1; done
      for i in $(seq 200); do echo "small file $i" > "$MNT/d/s$i"; done
      (cd "$MNT" && find d -type f | sort | xargs sha256sum) > "$WORK/sums" || return 1
      note "ext4: $(wc -l < "$WORK/sums") files, $(du -sm "$MNT/d" | cut -f1) MiB written"
      umount "$MNT" || { note "umount failed"; return 1; }
      disconnect || return 1
      connect || return 1
      note "reconnected: $CTRL $DEV"
      fsck.ext4 -n -f "$DEV" >"$WORK/fsck.log" 2>&1 || { note "fsck -n: $(tail -5 "$WORK/fsck.log")"; return 1; }
      note "fsck.ext4 -n -f: $(tail -1 "$WORK/fsck.log")"
      mount -t ext4 "$DEV" "$MNT" || { note "mount after reconnect failed"; return 1; }
      (cd "$MNT" && sha256sum --quiet -c "$WORK/sums") || { note "checksums differ"; return 1; }
      umount "$MNT" || return 1
      disconnect
    }
    check "5 mkfs.ext4, files + sha256, umount, disconnect, reconnect, fsck -n clean, checksums match, disconnect" five
  else
    ko "3 nvme connect"; dump_log
  fi

  # ---- 6. digests
  if connect --hdr-digest --data-digest; then
    ok "6 nvme connect --hdr-digest --data-digest: $CTRL $DEV"
    check "6 fio randwrite verify=crc32c + verify-only pass with header and data digests" fio_verify digest
    check "6 nvme disconnect" disconnect
  else
    ko "6 nvme connect --hdr-digest --data-digest"; dump_log
  fi

  # ---- 7. SIGTERM
  kill -TERM "$spid"
  for _ in $(seq 300); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$spid" 2>/dev/null; then
    ko "7 sanport still runs 30 s after SIGTERM"; kill -KILL "$spid"; wait "$spid"
  else
    wait "$spid"; rc=$?
    if [ $rc = 0 ] && grep -q '^stopped$' "$LOG"; then ok "7 SIGTERM: sanport exits 0 and says 'stopped'"
    else ko "7 SIGTERM: exit $rc, 'stopped' $(grep -q '^stopped$' "$LOG" && echo printed || echo 'not printed')"; fi
  fi
  spid=""
  grep -Eiq 'exception|error|severe' "$LOG" && { note "the target's log has errors:"; grep -Ei -A3 'exception|error|severe' "$LOG" | head -30 | sed 's/^/  | /'; }
  [ "$fail" = 0 ] || dump_log 40
  echo "guest: $pass passed, $fail failed"
  [ "$fail" = 0 ]
  exit
fi

while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "interop-tcp.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
t0=$EPOCHREALTIME
summary() { echo "interop-tcp wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
"$HERE/prepare.sh" || { echo "FAIL prepare.sh"; summary 0 1; exit 1; }
if ! command -v mkfs.ext4 >/dev/null && command -v apt-get >/dev/null; then   # Priority: required, but slim images drop it
  DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends e2fsprogs >/dev/null 2>&1 \
    || { apt-get -q update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends e2fsprogs >/dev/null 2>&1; }
fi
for t in mkfs.ext4 fsck.ext4 fio nvme ss; do
  command -v $t >/dev/null || { echo "FAIL $t is not installed (e2fsprogs, fio, nvme-cli, iproute2)"; summary 0 1; exit 1; }
done
# build on the host (Maven in the guest is 10-40x slower), then run from a copy of the jars: a rebuild on the
# host while the guest runs must not swap them underneath
build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; summary 0 1; exit 1; }
echo "$build_log" | tail -1
TMP=$(mktemp -d /tmp/sanport-interop-tcp.XXXXXX)
OUT=$TMP/out
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
truncate -s 2G "$TMP/disk.img"     # sparse: costs no disk
"$HERE/run.sh" --nvme "$TMP/disk.img" --timeout 330 --env "SANPORT_INTEROP_LIB=$TMP/lib" --env "SANPORT_INTEROP_JAVA=$JAVA_HOME" \
    -- "$HERE/interop-tcp.sh --in-guest" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ "$pass" -ge 11 ] || { echo "FAIL only $pass checks passed (expected 11)"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
