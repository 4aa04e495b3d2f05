#!/bin/bash
# tls.sh - NVMe/TCP over TLS 1.3 (PSK) between sanport and Linux 6.12, both directions, in ONE 6.12 guest
# (run.sh --kernel 6.12: Debian 13, nvme-cli 2.13, tlshd, the .nvme keyring):
#   1. the Linux host against sanport: a key from `nvme gen-tls-key --insert` (the .nvme keyring, tlshd doing the
#      host's handshake), the same key string to `sanport export --tls --tls-key @FILE`; `nvme connect --tls`
#      works, fio writes and verifies, ext4 survives a disconnect/reconnect; another key in the keyring and a
#      plain `nvme connect` to the TLS-required port are refused
#   2. the Java host against the kernel's nvmet-tcp with addr_tsas tls1.3 (tlshd doing nvmet's handshakes, the
#      key in .nvme for the subsystem and the discovery NQN): `sanport discover --tls-key` and `sanport bench
#      remote --tls-key` work; a wrong key is refused
#   3. the record layer: sanport's target and the Java host hand the records to the guest's kTLS (their log lines
#      say so); -Dsanport.tls.records=java (the relay) still carries a bench run
#   4. TLS and DH-HMAC-CHAP on one connection: the Linux host (--tls --dhchap-secret) against sanport, the Java
#      host (--tls-key -S) against nvmet with a dhchap_key host entry; without the secret both are refused
#   TLS_BENCH=1   also measure (same boot, 3 alternating rounds, fio 4k randread QD32 and 128k read QD32 from the
#                 Linux host against three sanport exports): plain vs TLS with kTLS vs TLS with the relay
#                 (-Dsanport.tls.records=java); prints the TLS/plain ratios (median, min-max)
# Builds sanport on this machine first and runs its jars with this machine's JDK in the guest.
#   SKIP_BUILD=1   do not build (./sanport --version) first
# Prints PASS/FAIL lines, the wall time and "N passed, M failed"; exit 1 if anything failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CHECKS=11

if [ "${1:-}" = --in-guest ]; then
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags
  TRANSPORT=tcp ADDR=169.254.77.1 PORT=4420
  NQN=nqn.2026-11.io.sanport:tls KNQN=nqn.2026-11.io.sanport:tls-nvmet
  DISC_NQN=nqn.2014-08.org.nvmexpress.discovery
  HOSTNQN=$(< /etc/nvme/hostnqn) HOSTID=$(< /etc/nvme/hostid)
  WORK=$(mktemp -d /tmp/tls.XXXXXX)
  LOG=$WORK/target.log MNT=$WORK/mnt
  cd "$WORK" || exit 1
  . "$HERE/guest-lib.sh"            # PASS/FAIL, connect/disconnect, fio_verify, ext4_roundtrip
  spid=""
  trap host_cleanup EXIT
  # every connect of guest-lib (also ext4_roundtrip's reconnect) goes over TLS with this host's identity
  eval "$(declare -f connect | sed '1s/^connect/lib_connect/')"
  connect() { lib_connect --tls --hostnqn "$HOSTNQN" --hostid "$HOSTID" "$@"; }
  JAVA=("$SANPORT_TLS_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_TLS_LIB/*" io.sanport.cli.Main)
  modprobe -a nvme-tcp nvmet nvmet-tcp tls 2>/dev/null
  # the host's 10 s for tlshd's handshake is tight for a cold JVM under TCG
  [ -w /sys/module/nvme_tcp/parameters/tls_handshake_timeout ] && echo 30 > /sys/module/nvme_tcp/parameters/tls_handshake_timeout
  note "kTLS: $(cat /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null) (tcp_available_ulp)"
  ip link add sp0 type dummy && ip addr add "$ADDR/16" dev sp0 && ip link set sp0 up || { ko "address $ADDR on sp0"; exit 1; }

  # ---- 1. the Linux host against sanport
  # the configured PSK as nvme-cli makes it, its retained PSK in .nvme under "NVMe0R01 <hostnqn> <subnqn>"
  out=$(nvme gen-tls-key --hmac=1 --hostnqn="$HOSTNQN" --subsysnqn="$NQN" --insert 2>&1)
  KEY=$(grep '^NVMeTLSkey-1:01:' <<<"$out") SERIAL=$(sed -n 's/^Inserted TLS key //p' <<<"$out")
  umask 077; echo "$KEY" > "$WORK/tls.key"
  note "gen-tls-key: key ${KEY:0:16}... inserted as $SERIAL: $(keyctl show %:.nvme | grep -c 'psk:') PSKs in .nvme"
  truncate -s 2G "$WORK/disk.img"
  "${JAVA[@]}" export --device "$WORK/disk.img" --address $ADDR --port $PORT --nqn "$NQN" --discovery-port 0 \
      --allow-host "$HOSTNQN" --tls --tls-key "@$WORK/tls.key" >"$LOG" 2>&1 &
  spid=$!
  serving() { grep -q '^serving' "$LOG" && ss -Hltn "sport = :$PORT" | grep -q "$ADDR:$PORT"; }
  for _ in $(seq 1200); do serving && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  if serving; then ok "1 sanport export --tls --tls-key @FILE (the gen-tls-key string) serving on $ADDR:$PORT"
  else ko "1 sanport export --tls did not start"; dump_log; guest_summary; exit 1; fi

  tls_io() {
    local s=$EPOCHREALTIME
    connect || { tail -n 5 /run/tlshd.log | sed 's/^/     tlshd: /'; tail -n 5 "$LOG" | sed 's/^/     sanport: /'; return 1; }
    local used; used=$(cat /sys/class/nvme/$CTRL/tls_key 2>/dev/null)
    note "nvme connect --tls: $CTRL $DEV in $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $s}") s, tls_key $used"
    [ "$used" = "$SERIAL" ] || { note "controller uses key '$used', inserted '$SERIAL'"; return 1; }
    fio_verify tls 8M
  }
  check "2 Linux nvme connect --tls (key in .nvme, tlshd) to sanport; fio randwrite+verify over TLS" tls_io
  ktls_target() {
    grep -q 'records in the kernel (kTLS)' "$LOG" || { grep -i 'tls' "$LOG" | tail -n 3 | sed 's/^/     /'; return 1; }
    ! grep -q 'records in Java (relay)' "$LOG" || { note "a connection went through the relay"; return 1; }
    note "sanport: $(grep -m1 'records in the kernel' "$LOG" | cut -c1-200)"
  }
  check "3 sanport handed the Linux host's TLS records to kTLS (no relay)" ktls_target
  ext4_tls() { [ -n "$DEV" ] || connect || return 1
               ext4_roundtrip; }
  check "4 ext4 over TLS across a disconnect/reconnect (fsck clean, checksums equal)" ext4_tls

  # refused ARGS...: the connect fails and leaves no controller of ours
  refused() {
    local out
    if out=$(nvme connect -t tcp -a $ADDR -s $PORT -n "$NQN" --hostnqn "$HOSTNQN" --hostid "$HOSTID" "$@" 2>&1); then
      note "connect $* succeeded: $out"; nvme disconnect -n "$NQN" >/dev/null; return 1
    fi
    ! grep -qx "$NQN" /sys/class/nvme-subsystem/*/subsysnqn 2>/dev/null || { note "a controller remained"; return 1; }
    note "refused: ${out##*$'\n'}"
  }
  plain_refused() { refused; }
  check "5 plain nvme connect (no --tls) to sanport's TLS-required port refused" plain_refused
  wrong_key() {   # another key under the same identity replaces ours in .nvme
    nvme gen-tls-key --hmac=1 --hostnqn="$HOSTNQN" --subsysnqn="$NQN" --insert >/dev/null || return 1
    refused --tls || return 1
    grep -q 'TLS' "$LOG" && note "sanport: $(grep -i 'tls' "$LOG" | tail -n1 | cut -c1-160)"
    kill -0 "$spid" || { note "sanport died"; return 1; }
  }
  check "6 nvme connect --tls with another key in .nvme refused (sanport still up)" wrong_key
  kill -TERM "$spid"; wait "$spid"; spid=""
  if [ "${TLS_BENCH:-0}" = 1 ]; then
    # three exports on fresh NQNs (the key of $NQN was replaced above): plain, TLS (kTLS), TLS with the relay
    BKEY=$(nvme gen-tls-key --hmac=1 --hostnqn="$HOSTNQN" --subsysnqn="$NQN-k" --insert | grep '^NVMeTLSkey-1:01:')
    nvme check-tls-key --keydata="$BKEY" --hostnqn="$HOSTNQN" --subsysnqn="$NQN-r" --insert >/dev/null
    echo "$BKEY" > "$WORK/bench.key"
    bpids=()
    for m in p:4430 k:4431 r:4432; do
      truncate -s 1G "$WORK/b${m%%:*}.img"
      flags=() tls=()
      [ "${m%%:*}" = p ] || tls=(--tls --tls-key "@$WORK/bench.key")
      [ "${m%%:*}" = r ] && flags=(-Dsanport.tls.records=java)
      "$SANPORT_TLS_JAVA/bin/java" "${flags[@]}" "${JAVA[@]:1}" export --device "$WORK/b${m%%:*}.img" --address $ADDR \
          --port "${m#*:}" --nqn "$NQN-${m%%:*}" --discovery-port 0 --allow-host "$HOSTNQN" "${tls[@]}" \
          >"$WORK/b${m%%:*}.log" 2>&1 &
      bpids+=($!)
    done
    for _ in $(seq 1200); do [ "$(grep -l '^serving' "$WORK"/b?.log 2>/dev/null | wc -l)" = 3 ] && break; sleep 0.1; done
    declare -A BDEV
    for m in p:4430 k:4431 r:4432; do
      t=(); [ "${m%%:*}" = p ] || t=(--tls)
      NQN="$NQN-${m%%:*}" PORT="${m#*:}" lib_connect "${t[@]}" --hostnqn "$HOSTNQN" --hostid "$HOSTID" \
        && BDEV[${m%%:*}]=$DEV
    done
    note "bench devices: plain ${BDEV[p]:-?} kTLS ${BDEV[k]:-?} relay ${BDEV[r]:-?}; $(grep -h 'records in' "$WORK"/b?.log | sed 's/.*: records/records/' | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
    fio_iops() {   # DEV RW BS: 3 s at QD32 after 1 s, read IOPS (terse field 8)
      fio --name=b --filename="$1" --direct=1 --ioengine=libaio --rw="$2" --bs="$3" --iodepth=32 --size=512M \
          --ramp_time=1 --runtime=3 --time_based --output-format=terse 2>/dev/null | awk -F';' '{print $8}'
    }
    declare -A R
    for round in 1 2 3; do
      for wl in "randread 4k" "read 128k"; do
        for m in p k r; do R[$m $wl $round]=$([ -n "${BDEV[$m]:-}" ] && fio_iops "${BDEV[$m]}" $wl); done
        note "round $round $wl QD32: plain ${R[p $wl $round]} kTLS ${R[k $wl $round]} relay ${R[r $wl $round]} IOPS"
      done
    done
    for wl in "randread 4k" "read 128k"; do
      for m in k r; do
        read -r lo mid hi <<<"$(for round in 1 2 3; do awk -v t="${R[$m $wl $round]}" -v p="${R[p $wl $round]}" \
                                 'BEGIN{ if (p > 0) printf "%.2f\n", t / p }'; done | sort -n | tr '\n' ' ')"
        note "TLS/plain $wl QD32 $([ $m = k ] && echo kTLS || echo relay): median ${mid:-?} (min ${lo:-?}, max ${hi:-?})"
      done
    done
    for m in p k r; do nvme disconnect -n "$NQN-$m" >/dev/null 2>&1; done
    kill -TERM "${bpids[@]}"; wait "${bpids[@]}"
  fi

  # ---- 2. the Java host against the kernel's nvmet-tcp with TLS 1.3 required
  C=/sys/kernel/config/nvmet
  truncate -s 64M "$WORK/nvmet.img"; LOOP=$(losetup -f --show "$WORK/nvmet.img")
  mkdir $C/subsystems/$KNQN $C/subsystems/$KNQN/namespaces/1
  echo 1 > $C/subsystems/$KNQN/attr_allow_any_host
  echo -n "$LOOP" > $C/subsystems/$KNQN/namespaces/1/device_path
  echo 1 > $C/subsystems/$KNQN/namespaces/1/enable
  P=$C/ports/1
  mkdir $P
  echo tcp > $P/addr_trtype; echo ipv4 > $P/addr_adrfam; echo $ADDR > $P/addr_traddr; echo 4421 > $P/addr_trsvcid
  echo tls1.3 > $P/addr_tsas
  ln -s $C/subsystems/$KNQN $P/subsystems/$KNQN
  note "nvmet: $KNQN on $LOOP, tcp $ADDR:4421 tsas $(cat $P/addr_tsas) treq $(cat $P/addr_treq)"
  # the key for nvmet (tlshd looks it up in .nvme by identity): the subsystem's and the discovery NQN's
  JKEY=$(nvme gen-tls-key --hmac=1 --hostnqn="$HOSTNQN" --subsysnqn="$KNQN" --insert | grep '^NVMeTLSkey-1:01:')
  nvme check-tls-key --keydata="$JKEY" --hostnqn="$HOSTNQN" --subsysnqn="$DISC_NQN" --insert >/dev/null
  echo "$JKEY" > "$WORK/java.key"
  java_discover() {
    local out; out=$(SANPORT_DEBUG=1 "${JAVA[@]}" discover -a $ADDR -s 4421 -q "$HOSTNQN" --tls-key "@$WORK/java.key" 2>&1) \
      || { printf '%s\n' "$out" | grep -v -e ' fine: ' -e '^\s*at ' | tail -n 25 | sed 's/^/     /'
           tail -n 5 /run/tlshd.log | sed 's/^/     tlshd: /'; return 1; }
    grep -q "$KNQN" <<<"$out" || { printf '%s\n' "$out" | sed 's/^/     /'; return 1; }
    note "discover over TLS: $(grep -c -i 'subnqn' <<<"$out") entries, $KNQN listed"
    DISCOVER_OUT=$out
  }
  check "7 sanport discover --tls-key against nvmet-tcp (addr_tsas tls1.3, tlshd)" java_discover
  java_bench() {
    local out; out=$("${JAVA[@]}" bench remote -a $ADDR -s 4421 --nqn "$KNQN" -q "$HOSTNQN" --tls-key "@$WORK/java.key" \
                       --queues 1 --rw randwrite --bs 4k --qd 8 --seconds 2 --ramp 0 2>&1) \
      || { printf '%s\n' "$out" | tail -n 8 | sed 's/^/     /'; tail -n 5 /run/tlshd.log | sed 's/^/     tlshd: /'; return 1; }
    note "bench remote over TLS: $(grep -i -E 'iops' <<<"$out" | tail -n1)"
  }
  check "8 sanport bench remote --tls-key against nvmet-tcp TLS" java_bench
  java_ktls() {
    grep -q 'records in the kernel (kTLS)' <<<"${DISCOVER_OUT:-}" \
      || { grep -i 'tls' <<<"${DISCOVER_OUT:-}" | tail -n 3 | sed 's/^/     /'; return 1; }
    note "client: $(grep -m1 'records in the kernel' <<<"$DISCOVER_OUT" | sed 's/.*sanport info: //' | cut -c1-160)"
  }
  check "9 the Java host handed its TLS records (with nvmet) to kTLS" java_ktls
  java_relay() {
    local out; out=$(SANPORT_DEBUG=1 "$SANPORT_TLS_JAVA/bin/java" -Dsanport.tls.records=java "${JAVA[@]:1}" bench remote \
                       -a $ADDR -s 4421 --nqn "$KNQN" -q "$HOSTNQN" --tls-key "@$WORK/java.key" \
                       --queues 1 --rw randread --bs 4k --qd 8 --seconds 1 --ramp 0 2>&1) \
      || { printf '%s\n' "$out" | grep -v FINE | tail -n 8 | sed 's/^/     /'; return 1; }
    grep -q 'records in Java (relay)' <<<"$out" || { note "no relay line"; return 1; }
    ! grep -q 'records in the kernel' <<<"$out" || { note "kTLS used despite -Dsanport.tls.records=java"; return 1; }
    note "relay forced: $(grep -i -E 'iops' <<<"$out" | tail -n1 | cut -c1-120)"
  }
  check "10 -Dsanport.tls.records=java: the relay carries a bench run against nvmet TLS" java_relay
  java_wrong() {
    local wrong out; wrong=$(nvme gen-tls-key --hmac=1)
    echo "$wrong" > "$WORK/wrong.key"
    if out=$(timeout 60 "${JAVA[@]}" discover -a $ADDR -s 4421 -q "$HOSTNQN" --tls-key "@$WORK/wrong.key" 2>&1); then
      note "discover with a wrong key succeeded"; return 1; fi
    note "refused: $(grep -v '^Picked up' <<<"$out" | tail -n1 | cut -c1-200)"
  }
  check "11 sanport discover with a wrong key refused by nvmet" java_wrong

  # ---- 3. TLS and DH-HMAC-CHAP on the same connection (Linux 6.12 allows both: auth runs inside the TLS session)
  ANQN=$NQN-auth APORT=4426
  AKEY=$(nvme gen-tls-key --hmac=1 --hostnqn="$HOSTNQN" --subsysnqn="$ANQN" --insert | grep '^NVMeTLSkey-1:01:')
  DHK=$(nvme gen-dhchap-key --hmac=1 --nqn "$HOSTNQN")
  echo "$AKEY" > "$WORK/auth-tls.key"; echo "$DHK" > "$WORK/dhchap.key"
  truncate -s 2G "$WORK/auth.img"   # fio_verify writes at 1G
  "${JAVA[@]}" export --device "$WORK/auth.img" --address $ADDR --port $APORT --nqn "$ANQN" --discovery-port 0 \
      --allow-host "$HOSTNQN" --tls --tls-key "@$WORK/auth-tls.key" --dhchap-key "@$WORK/dhchap.key" >"$WORK/auth.log" 2>&1 &
  spid=$!
  for _ in $(seq 1200); do grep -q '^serving' "$WORK/auth.log" && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  tls_auth() {
    grep -q '^serving' "$WORK/auth.log" || { tail -n 5 "$WORK/auth.log" | sed 's/^/     /'; return 1; }
    # without the DH-HMAC-CHAP secret the TLS connection alone is not enough
    if NQN=$ANQN PORT=$APORT connect; then note "connected over TLS without DH-HMAC-CHAP"; NQN=$ANQN disconnect; return 1; fi
    NQN=$ANQN PORT=$APORT connect --dhchap-secret "$DHK" || return 1
    local used; used=$(cat /sys/class/nvme/$CTRL/dhchap_secret 2>/dev/null)
    [ "$used" = "$DHK" ] || { note "controller's dhchap_secret '${used:0:12}...' is not ours"; NQN=$ANQN disconnect; return 1; }
    [ -n "$(cat /sys/class/nvme/$CTRL/tls_key 2>/dev/null)" ] || { note "no tls_key on $CTRL"; NQN=$ANQN disconnect; return 1; }
    grep -q 'records in' "$WORK/auth.log" || { note "sanport logged no TLS session"; NQN=$ANQN disconnect; return 1; }
    fio_verify tls-auth 8M || { NQN=$ANQN disconnect; return 1; }
    NQN=$ANQN disconnect
  }
  check "12 Linux nvme connect --tls --dhchap-secret to sanport (TLS + DH-HMAC-CHAP): no secret refused, fio verify with it" tls_auth
  kill -TERM "$spid"; wait "$spid"; spid=""
  java_tls_auth() {   # nvmet: the host must authenticate too (a configfs host entry with dhchap_key)
    local H=$C/hosts/$HOSTNQN out
    mkdir "$H" && echo "$DHK" > "$H/dhchap_key" || return 1
    echo 0 > $C/subsystems/$KNQN/attr_allow_any_host && ln -s "$H" $C/subsystems/$KNQN/allowed_hosts/ || return 1
    if out=$(timeout 120 "${JAVA[@]}" bench remote -a $ADDR -s 4421 --nqn "$KNQN" -q "$HOSTNQN" --tls-key "@$WORK/java.key" \
               --queues 1 --rw randread --bs 4k --qd 4 --seconds 1 --ramp 0 2>&1); then
      note "nvmet served TLS without DH-HMAC-CHAP"; return 1; fi
    out=$("${JAVA[@]}" bench remote -a $ADDR -s 4421 --nqn "$KNQN" -q "$HOSTNQN" --tls-key "@$WORK/java.key" \
            -S "@$WORK/dhchap.key" --queues 1 --rw randwrite --bs 4k --qd 8 --seconds 2 --ramp 0 2>&1) \
      || { printf '%s\n' "$out" | grep -v FINE | tail -n 8 | sed 's/^/     /'; return 1; }
    note "bench remote over TLS + DH-HMAC-CHAP: $(grep -i -E 'iops' <<<"$out" | tail -n1 | cut -c1-120)"
  }
  check "13 sanport bench remote --tls-key -S against nvmet (tls1.3 + dhchap_key): no secret refused, I/O with it" java_tls_auth
  guest_summary
  exit $?
fi

t0=$EPOCHREALTIME
summary() { echo "tls wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
"$HERE/prepare.sh" --kernel 6.12 || { echo "FAIL prepare.sh --kernel 6.12"; summary 0 1; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; summary 0 1; exit 1; }
fi
TMP=$(mktemp -d /tmp/sanport-tls.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"   # a copy: a build on this machine must not swap jars under the guest
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
"$HERE/run.sh" --kernel 6.12 --timeout 700 --env "SANPORT_TLS_LIB=$TMP/lib" --env "SANPORT_TLS_JAVA=$JAVA_HOME" \
    --env "TLS_BENCH=${TLS_BENCH:-0}" \
    -- "$HERE/tls.sh --in-guest" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$TMP/out"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$TMP/out") fail=$(grep -c '^FAIL' "$TMP/out")
[ $((pass + fail)) -ge $CHECKS ] || { echo "FAIL only $((pass + fail)) of $CHECKS checks ran"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
