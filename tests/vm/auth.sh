#!/bin/bash
# auth.sh - DH-HMAC-CHAP (NVMe in-band authentication) between sanport and Linux 6.12, both directions, in ONE
# 6.12 guest (tests/vm/run.sh --kernel 6.12 --rdma; Debian 13 root with nvme-cli 2.13). Builds sanport on this machine
# first and runs a copy of its jars with the host's JDK 25 inside the guest. Checks:
#   the Linux host (nvme-tcp, nvme connect --dhchap-secret [--dhchap-ctrl-secret]) against `sanport serve` with a
#   config whose host entries carry dhchap_key / dhchap_ctrl_key / dhchap_hash / dhchap_dhgroup, one host NQN per
#   combination: hmac(sha256|sha384|sha512) x null|ffdhe2048, plus sha512 ffdhe4096; keys from
#   `nvme gen-dhchap-key` untransformed (hh 0) and with --hmac 1/2/3; unidirectional and bidirectional; a read
#   of the namespace on each; sanport's debug log shows each queue authenticated (both ways when bidirectional)
#   refused: a wrong host secret, no secret, a wrong controller secret (nvme connect fails, no controller stays,
#   sanport's log names the host NQN and address) - and no secret appears anywhere in sanport's log
#   fio randwrite + crc32c verify over an authenticated bidirectional connection with every I/O queue
#   re-authentication from the host: writing the controller's sysfs dhchap_secret, I/O after it
#   nvme connect -t rdma (SoftRoCE, run.sh --rdma) with bidirectional DH-HMAC-CHAP
#   sanport's Java host (bench remote -S [-C]) against the kernel's nvmet-tcp with dhchap_key (and
#   dhchap_ctrl_key) in configfs; a wrong secret refused
# Prints PASS/FAIL lines, the wall time and "N passed, M failed"; exit 1 if anything failed. The same file runs
# the guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CHECKS=18

if [ "${1:-}" = --in-guest ]; then
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags; nothing is built here
  TRANSPORT=tcp ADDR=169.254.77.1 PORT=4420
  NQN=nqn.2024-01.io.sanport:auth-vm
  WORK=$(mktemp -d /tmp/auth.XXXXXX)
  LOG=$WORK/target.log MNT=$WORK/mnt
  cd "$WORK" || exit 1
  . "$HERE/guest-lib.sh"            # ok/ko/check/note, connect/disconnect, fio_verify
  spid=""
  C=/sys/kernel/config/nvmet
  java=("$SANPORT_AUTH_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_AUTH_LIB/*" io.sanport.cli.Main)
  cleanup() { nvme disconnect-all >/dev/null 2>&1; [ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null; }
  trap cleanup EXIT
  # run.sh --rdma put the address on sanport0 under rxe0 (SoftRoCE); the same address serves TCP
  [ -d /sys/class/infiniband/rxe0 ] || { ko "no rxe0: the guest needs tests/vm/run.sh --rdma"; exit 1; }
  uuid() { cat /proc/sys/kernel/random/uuid; }

  # ---- the hosts: one host NQN (and host ID) per hash / DH group / key transform
  #        name      hash          dhgroup    --hmac  (of the host key)
  COMBOS=("s256-null hmac(sha256) null      0"
          "s256-2048 hmac(sha256) ffdhe2048 1"
          "s384-null hmac(sha384) null      2"
          "s384-2048 hmac(sha384) ffdhe2048 2"
          "s512-null hmac(sha512) null      3"
          "s512-2048 hmac(sha512) ffdhe2048 3"
          "s512-4096 hmac(sha512) ffdhe4096 0")
  declare -A HN HID HK CK HASH GRP
  hosts_json="" allowed=""
  for c in "${COMBOS[@]}"; do
    read -r n h g m <<<"$c"
    HN[$n]=nqn.2014-08.org.nvmexpress:uuid:$(uuid) HID[$n]=$(uuid) HASH[$n]=$h GRP[$n]=$g
    HK[$n]=$(nvme gen-dhchap-key --hmac=$m --nqn "${HN[$n]}") && CK[$n]=$(nvme gen-dhchap-key --hmac=$m --nqn "$NQN") \
      || { ko "nvme gen-dhchap-key --hmac=$m"; exit 1; }
    hosts_json+="${hosts_json:+,}
    { \"nqn\": \"${HN[$n]}\", \"dhchap_key\": \"${HK[$n]}\", \"dhchap_ctrl_key\": \"${CK[$n]}\",
      \"dhchap_hash\": \"$h\", \"dhchap_dhgroup\": \"$g\" }"
    allowed+="${allowed:+, }\"${HN[$n]}\""
  done
  WRONG=$(nvme gen-dhchap-key --nqn "${HN[s256-2048]}")
  truncate -s 2G "$WORK/disk.img"     # sparse; fio_verify writes at 1 GiB
  umask 077
  cat > "$WORK/sanport.json" <<EOF
{ "hosts": [ $hosts_json ],
  "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "$ADDR", "trsvcid": "$PORT" },
               "subsystems": [ "$NQN" ] },
             { "portid": 2, "addr": { "trtype": "rdma", "adrfam": "ipv4", "traddr": "$ADDR", "trsvcid": "$PORT" },
               "subsystems": [ "$NQN" ] } ],
  "subsystems": [ { "nqn": "$NQN", "attr": { "allow_any_host": "0", "dhchap_required": "1" },
                    "allowed_hosts": [ $allowed ],
                    "namespaces": [ { "nsid": 1, "enable": 1, "device": { "path": "$WORK/disk.img" } } ] } ] }
EOF
  umask 022
  note "keys: ${HK[s256-null]:0:11}... ${HK[s256-2048]:0:11}... ${HK[s384-null]:0:11}... ${HK[s512-null]:0:11}... (hh 0-3)"

  # ---- 1. the target
  "${java[@]}" serve --config "$WORK/sanport.json" --log-level debug --control-socket "$WORK/sanport.sock" >"$LOG" 2>&1 &
  spid=$!
  serving() { ss -Hltn "sport = :$PORT" | grep -q "$ADDR:$PORT" && grep -q "listening: rdma $ADDR:$PORT" "$LOG"; }
  for _ in $(seq 1200); do serving && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  if serving; then ok "1 sanport serve: $NQN on tcp and rdma $ADDR:$PORT, ${#COMBOS[@]} hosts with DH-HMAC-CHAP keys, dhchap_required"
  else ko "1 sanport serve does not listen on $ADDR:$PORT"; dump_log; exit 1; fi

  # auth_io NAME [bidi] [connect options]: connect as host NAME with its secret (and the controller's), read
  # the namespace, check in sanport's log that each queue of this controller authenticated, disconnect
  auth_io() {
    local n=$1 bidi=${2:-} cntlid lines want; shift 2
    local args=(--hostnqn "${HN[$n]}" --hostid "${HID[$n]}" --dhchap-secret "${HK[$n]}")
    [ "$bidi" = bidi ] && args+=(--dhchap-ctrl-secret "${CK[$n]}")
    connect "${args[@]}" "$@" || return 1
    dd if="$DEV" of=/dev/null bs=64k count=16 iflag=direct status=none || { note "dd read of $DEV failed"; disconnect; return 1; }
    cntlid=$(cat /sys/class/nvme/$CTRL/cntlid)
    [ "$(cat /sys/class/nvme/$CTRL/transport)" = "$TRANSPORT" ] || { note "transport $(cat /sys/class/nvme/$CTRL/transport)"; disconnect; return 1; }
    [ "$(cat /sys/class/nvme/$CTRL/dhchap_secret)" = "${HK[$n]}" ] || { note "sysfs dhchap_secret differs"; disconnect; return 1; }
    disconnect || return 1
    want="controller $cntlid of ${HN[$n]} .*: queue [0-9]+ authenticated"
    [ "$bidi" = bidi ] && want+=" both ways"
    lines=$(grep -Ec "$want" "$LOG")
    [ "$lines" -ge 2 ] || { note "sanport's log has $lines lines '$want' (want admin + I/O queues)"; return 1; }
    note "$n over $TRANSPORT: ${HASH[$n]} ${GRP[$n]} key hh ${HK[$n]:7:2}${bidi:+, bidirectional}: $lines queues authenticated, controller $cntlid"
  }
  # ---- 2-8. every hash, null and FFDHE groups, one way and both ways
  check "2 nvme connect --dhchap-secret (hmac(sha256), null, hh 00 key), read, disconnect" auth_io s256-null "" -i 1
  check "3 nvme connect --dhchap-secret (hmac(sha256), ffdhe2048, hh 01 key)" auth_io s256-2048 "" -i 1
  check "4 nvme connect --dhchap-secret --dhchap-ctrl-secret (hmac(sha384), null, hh 02): bidirectional" auth_io s384-null bidi -i 1
  check "5 bidirectional hmac(sha384) ffdhe2048 (hh 02)" auth_io s384-2048 bidi -i 1
  check "6 unidirectional hmac(sha512) null (hh 03)" auth_io s512-null "" -i 1
  check "7 bidirectional hmac(sha512) ffdhe2048 (hh 03)" auth_io s512-2048 bidi -i 1
  check "8 bidirectional hmac(sha512) ffdhe4096 (hh 00)" auth_io s512-4096 bidi -i 1

  # ---- 9-11. refusals: nvme connect fails, no controller stays, sanport logs host and address
  # refused WHAT SINCE ARGS...: the connect fails and sanport's log (after line SINCE) has a refusal for host
  refused() {
    local n=$1 since=$2 out c; shift 2
    if out=$(nvme connect -t tcp -a "$ADDR" -s "$PORT" -n "$NQN" --hostnqn "${HN[$n]}" --hostid "${HID[$n]}" -i 1 "$@" 2>&1); then
      note "connect succeeded: $out"; nvme disconnect -n "$NQN" >/dev/null; return 1
    fi
    for c in /sys/class/nvme/nvme*; do
      [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] && { note "a controller remained: ${c##*/}"; return 1; }
    done
    sleep 1.1   # refusals are logged at most once a second
    # a failed transaction is a warning; a host without a secret (Linux: ENOKEY) never starts one and just
    # leaves, which the disconnect line records
    local line; line=$(tail -n +"$since" "$LOG" | grep -E "authentication of ${HN[$n]} at $ADDR:[0-9]+ .*(failed|ended|refused)|of ${HN[$n]} at $ADDR:[0-9]+ .*disconnected" | head -n1)
    [ -n "$line" ] || { note "no refusal naming ${HN[$n]} and $ADDR in sanport's log:"; tail -n +"$since" "$LOG" | sed 's/^/  | /'; return 1; }
    note "nvme connect: ${out##*$'\n'}"; note "sanport: ${line:0:220}"
  }
  at() { echo $(( $(wc -l < "$LOG") + 1 )); }
  check "9 wrong host secret refused" refused s256-2048 "$(at)" --dhchap-secret "$WRONG"
  check "10 no host secret refused (dhchap_required)" refused s256-2048 "$(at)"
  check "11 wrong controller secret refused (bidirectional)" refused s384-2048 "$(at)" \
      --dhchap-secret "${HK[s384-2048]}" --dhchap-ctrl-secret "${CK[s512-2048]}"

  # ---- 12. data over an authenticated connection, all I/O queues
  fio_auth() {
    connect --hostnqn "${HN[s512-2048]}" --hostid "${HID[s512-2048]}" --dhchap-secret "${HK[s512-2048]}" \
        --dhchap-ctrl-secret "${CK[s512-2048]}" || return 1
    note "$(ls -d /sys/class/nvme/$CTRL/device/* 2>/dev/null | wc -l) sysfs entries; queues: $(grep -Ec "controller $(cat /sys/class/nvme/$CTRL/cntlid) of ${HN[s512-2048]} .*authenticated both ways" "$LOG")"
    fio_verify auth 48M
  }
  check "12 fio randwrite 4k-128k QD16 + crc32c verify, bidirectional hmac(sha512) ffdhe2048 on every queue" fio_auth

  # ---- 13. re-authentication the host starts (sysfs dhchap_secret write), then I/O
  reauth() {
    local cntlid before after
    cntlid=$(cat /sys/class/nvme/$CTRL/cntlid)
    before=$(grep -Ec "controller $cntlid of .*: queue 0 authenticated" "$LOG")
    dmesg -C
    echo "${HK[s512-2048]}" > /sys/class/nvme/$CTRL/dhchap_secret || return 1
    for _ in $(seq 100); do
      after=$(grep -Ec "controller $cntlid of .*: queue 0 authenticated" "$LOG"); [ "$after" -gt "$before" ] && break; sleep 0.1
    done
    dmesg | grep -qi 'authentication failed' && { note "dmesg: $(dmesg | tail -n 5)"; return 1; }
    [ "$after" -gt "$before" ] || { note "no new 'queue 0 authenticated' for controller $cntlid; dmesg: $(dmesg | tail -n 3)"; return 1; }
    [ "$(cat /sys/class/nvme/$CTRL/state)" = live ] || { note "state $(cat /sys/class/nvme/$CTRL/state)"; return 1; }
    dd if=/dev/urandom of="$WORK/pat" bs=64k count=8 status=none
    dd if="$WORK/pat" of="$DEV" bs=64k oflag=direct seek=4 status=none && \
      cmp <(dd if="$DEV" bs=64k skip=4 count=8 iflag=direct status=none) "$WORK/pat" || { note "pattern mismatch"; return 1; }
    note "dmesg: $(dmesg | grep -i auth | tail -n 1)"
  }
  if [ -n "$CTRL" ]; then
    check "13 re-authentication (echo secret > /sys/class/nvme/$CTRL/dhchap_secret): queue 0 again, live, I/O ok" reauth
    disconnect >/dev/null
  else ko "13 re-authentication: no connection"; fi

  # ---- 14. the same over NVMe/RDMA (SoftRoCE): authentication is fabrics-level
  TRANSPORT=rdma
  check "14 nvme connect -t rdma --dhchap-secret --dhchap-ctrl-secret (hmac(sha384), ffdhe2048), read, disconnect" \
      auth_io s384-2048 bidi -i 1
  TRANSPORT=tcp

  # ---- 15. no secret in sanport's log
  nolog() {
    local n k
    for n in "${!HK[@]}"; do
      for k in "${HK[$n]}" "${CK[$n]}"; do
        k=${k#DHHC-1:??:}; k=${k%:}
        grep -qF "${k:0:24}" "$LOG" && { note "a secret of $n is in the log"; return 1; }
      done
    done
    note "sanport's log: $(wc -l < "$LOG") lines, $(grep -c 'authenticated' "$LOG") 'authenticated', $(grep -c 'refused' "$LOG") 'refused'"
  }
  check "15 no host or controller secret (nor a 24-char piece of one) in sanport's log" nolog
  kill -TERM "$spid"; wait "$spid"; spid=""

  # ---- 16-18. sanport's Java host against the kernel's nvmet-tcp with dhchap_key in configfs
  KN=nqn.2024-01.io.sanport:auth-kernel KPORT=4421
  JH=nqn.2014-08.org.nvmexpress:uuid:$(uuid)
  JK=$(nvme gen-dhchap-key --hmac=1 --nqn "$JH") JC=$(nvme gen-dhchap-key --hmac=2 --nqn "$KN")
  truncate -s 64M "$WORK/k.img"; LOOP=$(losetup -f --show "$WORK/k.img")
  mkdir $C/subsystems/$KN $C/subsystems/$KN/namespaces/1 && echo 0 > $C/subsystems/$KN/attr_allow_any_host
  echo -n "$LOOP" > $C/subsystems/$KN/namespaces/1/device_path && echo 1 > $C/subsystems/$KN/namespaces/1/enable
  mkdir $C/hosts/$JH
  echo "$JK" > $C/hosts/$JH/dhchap_key; echo "$JC" > $C/hosts/$JH/dhchap_ctrl_key
  echo 'hmac(sha384)' > $C/hosts/$JH/dhchap_hash; echo ffdhe2048 > $C/hosts/$JH/dhchap_dhgroup
  ln -s $C/hosts/$JH $C/subsystems/$KN/allowed_hosts/$JH
  P=$C/ports/1; mkdir $P
  echo tcp > $P/addr_trtype; echo ipv4 > $P/addr_adrfam; echo $ADDR > $P/addr_traddr; echo $KPORT > $P/addr_trsvcid
  ln -s $C/subsystems/$KN $P/subsystems/$KN
  printf '%s\n' "$JK" > "$WORK/host.key"; printf '%s\n' "$JC" > "$WORK/ctrl.key"; chmod 600 "$WORK"/*.key
  bench() {   # bench ARGS...: sanport bench remote, 2 s of 4k reads, against the kernel's subsystem as JH
    "${java[@]}" bench remote -a $ADDR -s $KPORT -n $KN -q "$JH" --queues 1 --qd 4 --seconds 2 --ramp 0 "$@" > "$WORK/bench.out" 2>&1
  }
  java_ok() {
    bench "$@" || { note "$(tail -n 5 "$WORK/bench.out")"; return 1; }
    grep -qi 'iops' "$WORK/bench.out" || { note "$(tail -n 5 "$WORK/bench.out")"; return 1; }
    note "$(grep -i iops "$WORK/bench.out" | head -n 1)"
  }
  java_wrong() {
    local other; other=$(nvme gen-dhchap-key --hmac=1 --nqn "$JH")
    if bench -S "$other"; then note "bench succeeded with a wrong secret"; return 1; fi
    note "$(grep -v '^Picked up' "$WORK/bench.out" | tail -n 1)"
    grep -qF "${other:10:20}" "$WORK/bench.out" && { note "the secret is in the output"; return 1; }
    return 0
  }
  check "16 sanport bench remote -S @host.key against nvmet-tcp (dhchap_key, hmac(sha384), ffdhe2048)" java_ok -S "@$WORK/host.key"
  check "17 sanport bench remote -S -C against nvmet-tcp (dhchap_ctrl_key): bidirectional" java_ok -S "$JK" -C "@$WORK/ctrl.key"
  check "18 sanport bench remote with a wrong secret refused by nvmet (non-zero exit, secret not printed)" java_wrong
  guest_summary
  exit 0
fi

t0=$EPOCHREALTIME
summary() { echo "auth wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
"$HERE/prepare.sh" --kernel 6.12 || { echo "FAIL prepare.sh --kernel 6.12"; summary 0 1; exit 1; }
# build on the host (Maven is not in the guest), then run from a copy of the jars: a rebuild on the host while
# the guest runs must not swap them underneath
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; summary 0 1; exit 1; }
fi
TMP=$(mktemp -d /tmp/sanport-auth.XXXXXX)
OUT=$TMP/out
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
"$HERE/run.sh" --kernel 6.12 --rdma --timeout 600 --env "SANPORT_AUTH_LIB=$TMP/lib" --env "SANPORT_AUTH_JAVA=$JAVA_HOME" \
    -- "$HERE/auth.sh --in-guest" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ $((pass + fail)) -ge $CHECKS ] || { echo "FAIL only $((pass + fail)) of $CHECKS checks ran"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
