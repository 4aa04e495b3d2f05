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
  NQN=nqn.2026-11.io.sanport:interop-tcp TRANSPORT=tcp PORT=4420
  ADDR=169.254.77.1
  WORK=$(mktemp -d /tmp/interop.XXXXXX)
  LOG=$WORK/target.log
  MNT=$WORK/mnt
  cd "$WORK" || exit 1              # fio state files etc. stay in the guest's tmpfs
  . "$HERE/guest-lib.sh"            # PASS/FAIL, connect/disconnect, fio_verify, ext4_roundtrip
  spid=""
  trap host_cleanup EXIT

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
  if discovered 8009; then
    ok "2 nvme discover lists $NQN at tcp $ADDR:4420 ($(grep -c '^=====Discovery Log Entry' <<<"$disc") entries)"
  else
    ko "2 nvme discover (rc $rc)"; sed 's/^/  | /' <<<"$disc"; dump_log
  fi

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
    check "5 mkfs.ext4, files + sha256, umount, disconnect, reconnect, fsck -n clean, checksums match, disconnect" ext4_roundtrip
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
  guest_summary
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
