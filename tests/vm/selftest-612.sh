#!/bin/bash
# selftest-612.sh - does the 6.12 guest (run.sh --kernel 6.12) give the [auth]
# and [tls] work the peers it needs? Boots ONE guest and checks: kernel 6.12,
# Debian 13's nvme-cli 2.13 / fio 3.39 / tlshd / keyctl, the kernel's nvmet-tcp
# with DH-HMAC-CHAP (configfs hosts/<hostnqn>/dhchap_*) accepting the right
# host secret (one-way and bidirectional) and refusing a wrong host or
# controller secret, nvmet-tcp with TLS 1.3 (PSK from `nvme gen-tls-key
# --insert` in the .nvme keyring, tlshd doing the handshakes) accepting
# `nvme connect --tls` and refusing a plain connect, TLS and DH-HMAC-CHAP on one
# connection, the host's Java 25, and `sanport info` (io_uring) in there.
#   SKIP_BUILD=1   do not build sanport on the host first (./sanport --version)
# The commands are the recipe tests/vm/README.md describes ("The 6.12 guest").
# Prints PASS/FAIL lines, the wall time and "N passed, M failed"; exit 1 if
# anything failed. The same file runs the checks inside the guest (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JDK=/usr/lib/jvm/temurin-25-jdk-amd64
ROOT=$(cd "$HERE/../.." && pwd)
ADDR=169.254.77.1
CHECKS=11

if [ "${1:-}" = --in-guest ]; then
  t0=$EPOCHREALTIME
  check() {   # check NAME CMD...: run CMD, PASS/FAIL with its duration and last output line
    local name=$1 s=$EPOCHREALTIME out rc; shift
    out=$("$@" 2>&1); rc=$?
    local d; d=$(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $s}")
    if [ $rc = 0 ]; then echo "PASS $name (${d}s) ${out##*$'\n'}"
    else echo "FAIL $name (${d}s, rc=$rc)"; printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'; fi
  }
  C=/sys/kernel/config/nvmet
  HOSTNQN=$(< /etc/nvme/hostnqn) HOSTID=$(< /etc/nvme/hostid)
  AUTH_NQN=nqn.2024-01.io.sanport:selftest-auth TLS_NQN=nqn.2024-01.io.sanport:selftest-tls

  kernel() { uname -r; [[ "$(uname -r)" == 6.12.* ]]; }
  userland() {
    local v; v=$(nvme version | head -n1); echo "$v"; [[ "$v" == "nvme version 2.13"* ]] || return 1
    command -v tlshd keyctl > /dev/null || { echo "tlshd or keyctl missing"; return 1; }
    pgrep -x tlshd > /dev/null || { echo "tlshd not running"; return 1; }
    grep -q ' keyring *\.nvme: ' /proc/keys || { echo "no .nvme keyring"; return 1; }
    echo "$v, $(fio --version), tlshd pid $(pgrep -x tlshd), .nvme keyring, hostnqn $HOSTNQN"
  }

  # a dummy netdev with the link-local address (no NIC in the guest)
  ip link add sanport0 type dummy && ip link set sanport0 up && ip addr add $ADDR/16 dev sanport0
  img=/tmp/nvmet-612.img; truncate -s 64M $img; LOOP=$(losetup -f --show $img)
  # subsys NQN [allow_any_host]: a subsystem with namespace 1 on the loop device
  subsys() {
    mkdir $C/subsystems/$1 $C/subsystems/$1/namespaces/1
    echo "${2:-0}" > $C/subsystems/$1/attr_allow_any_host
    echo -n "$LOOP" > $C/subsystems/$1/namespaces/1/device_path
    echo 1 > $C/subsystems/$1/namespaces/1/enable
  }
  # port ID SVCID NQN [tls]: a TCP port exporting NQN, TLS 1.3 required with "tls"
  port() {
    local P=$C/ports/$1
    mkdir $P
    echo tcp > $P/addr_trtype; echo ipv4 > $P/addr_adrfam
    echo $ADDR > $P/addr_traddr; echo $2 > $P/addr_trsvcid
    if [ "${4:-}" = tls ]; then echo tls1.3 > $P/addr_tsas; echo required > $P/addr_treq; fi
    ln -s $C/subsystems/$3 $P/subsystems/$3
  }
  # connect NQN SVCID ARGS...: nvme connect, then a direct read of the new
  # namespace and a disconnect; fails if any of that fails
  connect() {
    local nqn=$1 svc=$2 before dev rc=1; shift 2
    before=$(ls /dev/nvme*n* 2>/dev/null)
    nvme connect -t tcp -a $ADDR -s $svc -n $nqn --hostnqn "$HOSTNQN" --hostid "$HOSTID" "$@" || return 1
    for _ in $(seq 100); do   # the namespace shows up asynchronously
      dev=$(ls /dev/nvme*n* 2>/dev/null | grep -E 'nvme[0-9]+n[0-9]+$' | grep -vxF "$before" | head -n1)
      [ -n "$dev" ] && break; sleep 0.1
    done
    [ -b "$dev" ] && dd if="$dev" of=/dev/null bs=4k count=16 iflag=direct status=none && rc=0
    for c in /sys/class/nvme/nvme*; do   # the controller, and the PSK it uses (TLS only)
      [ "$(cat $c/subsysnqn 2>/dev/null)" = "$nqn" ] || continue
      CTRL=${c##*/}; TLS_KEY=$(cat $c/tls_key 2>/dev/null)
    done
    nvme disconnect -n $nqn > /dev/null || rc=1
    echo "read $dev"; return $rc
  }
  # refused NQN SVCID ARGS...: the connect must fail and leave no controller behind
  refused() {
    local nqn=$1 svc=$2 out; shift 2
    if out=$(nvme connect -t tcp -a $ADDR -s $svc -n $nqn --hostnqn "$HOSTNQN" --hostid "$HOSTID" "$@" 2>&1); then
      echo "connect succeeded: $out"; nvme disconnect -n $nqn; return 1
    fi
    ! grep -qx "$nqn" /sys/class/nvme-subsystem/*/subsysnqn 2>/dev/null || { echo "a controller remained"; return 1; }
    echo "refused: ${out##*$'\n'}"
  }

  # --- DH-HMAC-CHAP: the host entry carries the secrets, hash and DH group ---
  HKEY=$(nvme gen-dhchap-key --nqn "$HOSTNQN") CKEY=$(nvme gen-dhchap-key --nqn "$AUTH_NQN")
  WRONG=$(nvme gen-dhchap-key --nqn "$HOSTNQN")
  subsys $AUTH_NQN 0
  H=$C/hosts/$HOSTNQN
  mkdir $H
  echo "$HKEY" > $H/dhchap_key
  echo 'hmac(sha256)' > $H/dhchap_hash
  echo ffdhe2048 > $H/dhchap_dhgroup
  ln -s $H $C/subsystems/$AUTH_NQN/allowed_hosts/$HOSTNQN
  port 1 4420 $AUTH_NQN
  auth_ok() { connect $AUTH_NQN 4420 --dhchap-secret "$HKEY" | tail -n1
              echo "$HKEY" | grep -q '^DHHC-1:0[0-3]:' && echo "hmac(sha256) ffdhe2048, key ${HKEY:0:10}..."; }
  auth_wrong() { refused $AUTH_NQN 4420 --dhchap-secret "$WRONG"; }
  auth_bidi() { echo "$CKEY" > $H/dhchap_ctrl_key
                connect $AUTH_NQN 4420 --dhchap-secret "$HKEY" --dhchap-ctrl-secret "$CKEY" | tail -n1; }
  auth_wrong_ctrl() { refused $AUTH_NQN 4420 --dhchap-secret "$HKEY" --dhchap-ctrl-secret "$WRONG"; }
  check "nvmet-tcp DH-HMAC-CHAP: right host secret accepted" auth_ok
  check "nvmet-tcp DH-HMAC-CHAP: wrong host secret refused" auth_wrong
  check "nvmet-tcp DH-HMAC-CHAP: bidirectional (--dhchap-ctrl-secret) accepted" auth_bidi
  check "nvmet-tcp DH-HMAC-CHAP: wrong controller secret refused" auth_wrong_ctrl

  # --- TLS 1.3 with a PSK in the .nvme keyring; tlshd does the handshakes ---
  subsys $TLS_NQN 1
  port 2 4421 $TLS_NQN tls
  # tls_key NQN: a retained PSK for (hostnqn, NQN) made by gen-tls-key and
  # inserted into .nvme; prints its serial, checks the identity it got
  tls_key() {
    local out psk serial ident
    out=$(nvme gen-tls-key --hmac=1 --hostnqn="$HOSTNQN" --subsysnqn="$1" --insert) || return 1
    psk=$(grep '^NVMeTLSkey-1:01:' <<< "$out") serial=$(sed -n 's/^Inserted TLS key //p' <<< "$out")
    ident=$(nvme check-tls-key --keydata="$psk" --hostnqn="$HOSTNQN" --subsysnqn="$1") || return 1
    [ "$ident" = "NVMe0R01 $HOSTNQN $1" ] || { echo "identity '$ident'"; return 1; }
    keyctl show %:.nvme | grep -qF "psk: $ident" || { echo "'$ident' not in .nvme"; keyctl show %:.nvme; return 1; }
    echo "$serial"
  }
  # tls_connect NQN ARGS...: connect --tls; the controller must use our key
  tls_connect() {
    local nqn=$1 serial; shift
    serial=$(tls_key $nqn) || { echo "$serial"; return 1; }
    TLS_KEY=
    connect $nqn 4421 --tls "$@" > /tmp/connect.out || { cat /tmp/connect.out; tail -n 5 /run/tlshd.log; return 1; }
    [ "$TLS_KEY" = "$serial" ] || { echo "controller $CTRL: tls_key '$TLS_KEY', inserted '$serial'"; return 1; }
    echo "$(tail -n1 /tmp/connect.out) over TLS 1.3 (tsas $(cat $C/ports/2/addr_tsas), treq $(cat $C/ports/2/addr_treq)), PSK ${serial}"
  }
  tls_ok() { tls_connect $TLS_NQN; }
  # both on one connection: the DH-HMAC-CHAP subsystem also behind the TLS port
  tls_auth() { ln -s $C/subsystems/$AUTH_NQN $C/ports/2/subsystems/$AUTH_NQN || return 1
               local ok; ok=$(tls_connect $AUTH_NQN --dhchap-secret "$HKEY" --dhchap-ctrl-secret "$CKEY") \
                 || { echo "$ok"; return 1; }
               # the authentication is really done in there: a wrong secret still fails
               refused $AUTH_NQN 4421 --tls --dhchap-secret "$WRONG" || return 1
               echo "${ok##*$'\n'}; a wrong host secret over TLS refused"; }
  tls_plain() { refused $TLS_NQN 4421; }
  check "nvmet-tcp TLS 1.3: nvme connect --tls (gen-tls-key --insert, tlshd)" tls_ok
  check "nvmet-tcp TLS 1.3: plain connect to the TLS port refused" tls_plain
  check "nvmet-tcp TLS 1.3 + DH-HMAC-CHAP (bidirectional) on one connection" tls_auth

  java25() {   # all output on failure; the version line last on success
    local v; v=$("$JDK/bin/java" -version 2>&1); printf '%s\n' "$v"
    grep -E '^(openjdk|java) version "25' <<< "$v"
  }
  check "kernel is 6.12" kernel
  check "Debian 13 userland: nvme-cli 2.13, fio, tlshd, keyctl" userland
  check "java -version ($JDK)" java25
  # sanport itself on Debian 13: its launcher's package check (t64 names) and
  # io_uring through liburing 2.9 on 6.12 (rings without an SQ array)
  sanport_info() { local out; out=$("$ROOT/sanport" info 2>&1); printf '%s\n' "$out"
                   grep -E '^io_uring: +ok' <<< "$out"; }
  check "./sanport info (liburing $(dpkg-query -W -f='${Version}' liburing2 2>/dev/null | cut -d- -f1), io_uring rings)" sanport_info
  echo "guest checks took $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
  exit 0
fi

t0=$EPOCHREALTIME
"$HERE/prepare.sh" --kernel 6.12 || { echo "FAIL prepare.sh --kernel 6.12"; echo "0 passed, 1 failed"; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then   # build on the host (Maven is not in the guest's root)
  build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; echo "0 passed, 1 failed"; exit 1; }
fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$HERE/run.sh" --kernel 6.12 --timeout 400 -- "$HERE/selftest-612.sh --in-guest" | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ $((pass + fail)) -ge $CHECKS ] || { echo "FAIL only $((pass + fail)) of $CHECKS checks ran"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
echo "selftest-612 wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
