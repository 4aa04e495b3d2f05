#!/bin/bash
# multipath.sh - the Linux 6.1 kernel's native NVMe multipath (nvme_core.multipath=Y, Debian's default) over
# sanport, with ANA. Builds sanport on this machine, copies its jars aside, boots ONE guest (tests/vm/run.sh --nvme
# on a sparse temporary image, --rdma for SoftRoCE) and, inside, slices /dev/nvme0n1 with loop devices and starts
# at once (JVM starts are the slow part under TCG): `sanport serve --config` with one subsystem on two NVMe/TCP
# ports (port 1 169.254.77.2:4420, a secondary address, ANA optimized; port 2 169.254.77.1:4421 non-optimized)
# and another on two NVMe/RDMA ports (3 :4430 optimized, 4 :4431 non-optimized), and two `sanport export
# --shared-device` processes of a third subsystem on :4422 / :4423 (controller IDs 1-999 / 1000-1999). Then:
#   1 serve serves both TCP ports            2 nvme_core.multipath is Y
#   3 nvme connect to each TCP port: two live controllers, ONE namespace block device; id-ctrl cmic 0xb (ANA),
#     anacap 0x1f, anagrpmax 128; the paths' ana_state (sysfs) optimized / non-optimized
#   4 nvme list-subsys and nvme ana-log show what the config says (addresses, ports, states, group 1)
#   5-8 under one fio randwrite crc32c verify run (verify_backlog: blocks read back and checked all along):
#   5 port 1 inaccessible (control socket) -> the path says inaccessible, port 1's command counter stands still
#     while port 2's grows         6 `sanport ana-state --port-id 1 --state optimized` -> failback, port 1 serves
#   7 `ip addr del` of port 1's address -> the host's controller leaves 'live' (keep-alive), port 2 serves
#   8 the address back -> the host reconnects by itself, the path is live + optimized, port 1 serves again
#   9 fio: no I/O or verify error through 5-8
#  11-13 (with RDMA) the same over nvme-rdma: two paths, one namespace; port 3 inaccessible -> port 4 serves;
#     optimized -> port 3 serves again; fio verify without error
#  14 SIGTERM: serve exits 0
#  15 the two export processes: one namespace, two paths, controller IDs in their ranges
#  ext4 on that namespace, checksummed files; fio verify on a file beside them through 16-18:
#  16 SIGKILL of one process: no I/O or verify error; the longest I/O (the failover stall) is reported
#  17 restart it: its path comes back live by itself
#  18 rolling restart, the other one (SIGTERM, start): both live again, fio without error
#  19 fsck clean, checksums match
# Prints PASS/FAIL per check, the phases' times and "N passed, M failed"; exit 1 if anything failed (18 checks,
# 15 with --no-rdma). ~6 min here (2 busy cores, TCG; most of it JVM starts: ~1 min each under load).
#   tests/vm/multipath.sh [--no-rdma]          (the target's log tail is printed when a check fails)
# The same file runs the guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "${1:-}" = --in-guest ]; then
  RDMA=${2:-0}
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags; nothing is built here
  TRANSPORT=tcp NQN=nqn.2026-11.io.sanport:multipath PORT=4420
  ADDR=169.254.77.1 ADDR2=169.254.77.2   # ADDR2 is the optimized port's, a secondary address taken away in 6
  NQN_R=nqn.2026-11.io.sanport:multipath-rdma
  WORK=$(mktemp -d /tmp/multipath.XXXXXX)
  LOG=$WORK/target.log MNT=$WORK/mnt SOCK=$WORK/sanport.sock
  cd "$WORK" || exit 1
  . "$HERE/guest-lib.sh"            # PASS/FAIL helpers
  spid="" fpid=""
  cleanup() {
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
    mountpoint -q "$MNT" 2>/dev/null && umount -l "$MNT"
    nvme disconnect-all >/dev/null 2>&1
    [ -n "$spid" ] && kill -TERM $spid 2>/dev/null
  }
  trap cleanup EXIT
  jflags=("${sanport_java_flags[@]}")
  # Debian's python3, not a version manager's shim on PATH: a shim's script costs seconds per call under TCG
  PY=/usr/bin/python3; [ -x $PY ] || PY=python3
  sanport() { "$SANPORT_MP_JAVA/bin/java" "${jflags[@]}" -cp "$SANPORT_MP_LIB/*" io.sanport.cli.Main "$@"; }
  # one call on the control socket without a JVM (one starts slowly under TCG); one python3 per call
  cat > "$WORK/rpc.py" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((json.dumps({"jsonrpc": "2.0", "id": 1, "method": sys.argv[2], "params": json.loads(sys.argv[3])}) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    buf += s.recv(65536)
r = json.loads(buf)
if len(sys.argv) > 4:   # the read + write commands of the controllers on port argv[4]
    print(sum(c["read_commands"] + c["write_commands"] for c in r["result"] if c["port_id"] == int(sys.argv[4])))
else:
    print(json.dumps(r.get("result", r.get("error"))))
sys.exit(0 if "result" in r else 1)
PY
  rpc() { $PY "$WORK/rpc.py" "$SOCK" "$1" "${2:-null}" "${@:3}"; }   # rpc METHOD [PARAMS-JSON [PORT_ID]]
  # fio's JSON (after its 'terminating on signal' line): "ERROR MAX_CLAT_MS IOS" (reads + writes done)
  cat > "$WORK/fio.py" <<'PY'
import json, sys
t = open(sys.argv[1]).read()
j = json.loads(t[t.index("{"):])["jobs"][0]
lat = max(j["write"]["clat_ns"]["max"], j["read"]["clat_ns"]["max"]) / 1e6
print(j["error"], "%.0f" % lat, j["write"]["total_ios"] + j["read"]["total_ios"])
PY
  # fio_start NAME FILE SIZE: randwrite 4k-64k QD16 with crc32c verify (verify_backlog: written blocks are read
  # back and checked all along), time-based until fio_stop; FILE a block device or a file
  fio_start() {
    fio --name="$1" --filename="$2" --size="$3" --ioengine=io_uring --direct=1 --rw=randwrite --bsrange=4k-64k \
        --iodepth=16 --verify=crc32c --verify_backlog=64 --verify_fatal=1 --time_based --runtime=1200 \
        --output-format=json --output="$WORK/$1.json" >"$WORK/$1.err" 2>&1 &
    fpid=$! FNAME=$1
  }
  # fio_stop: SIGINT; sets FIO to "ERROR MAX_CLAT_MS IOS"; status 0 when fio ran all along and reported no error
  fio_stop() {
    local alive=0
    kill -0 "$fpid" 2>/dev/null && alive=1
    kill -INT "$fpid" 2>/dev/null; wait "$fpid"; fpid=""
    FIO=$($PY "$WORK/fio.py" "$WORK/$FNAME.json" 2>&1)
    [ $alive = 1 ] && [ "${FIO%% *}" = 0 ] && ! grep -qiE 'verify: bad|error=' "$WORK/$FNAME.err"
  }
  fio_fail() { echo "fio: ${FIO:-?}; $(tail -3 "$WORK/$FNAME.err" | tr '\n' ' ')"; }

  if [ "$RDMA" = 1 ]; then   # run.sh --rdma: rxe0 on sanport0 with ADDR
    [ -d /sys/class/infiniband/rxe0 ] || { ko "no rxe0: the guest needs tests/vm/run.sh --rdma"; exit 1; }
    NETDEV=sanport0
  else
    NETDEV=sp0
    ip link add sp0 type dummy && ip addr add "$ADDR/16" dev sp0 && ip link set sp0 up || { ko "address $ADDR on sp0"; exit 1; }
  fi
  ip addr add "$ADDR2/16" dev $NETDEV || { ko "address $ADDR2 on $NETDEV"; exit 1; }
  BACK=/dev/nvme0n1
  # the RDMA subsystem: a 256 MiB slice of the same disk through a loop device (its own namespace)
  rports="" rsub=""
  if [ "$RDMA" = 1 ]; then
    RBACK=$(losetup -f --show -o $((1024 << 20)) --sizelimit $((256 << 20)) "$BACK")
    rports=',
    { "portid": 3, "addr": { "trtype": "rdma", "adrfam": "ipv4", "traddr": "'$ADDR'", "trsvcid": "4430" },
      "ana_groups": [ { "grpid": 1, "ana": { "state": "optimized" } } ], "subsystems": [ "'$NQN_R'" ] },
    { "portid": 4, "addr": { "trtype": "rdma", "adrfam": "ipv4", "traddr": "'$ADDR'", "trsvcid": "4431" },
      "ana_groups": [ { "grpid": 1, "ana": { "state": "non-optimized" } } ], "subsystems": [ "'$NQN_R'" ] }'
    rsub=',
    { "nqn": "'$NQN_R'", "attr": { "allow_any_host": "1" },
      "namespaces": [ { "nsid": 1, "ana_grpid": 1, "device": { "path": "'$RBACK'" } } ] }'
  fi
  # the TCP subsystem: the first 768 MiB of the disk through a loop device; the two processes' (15-19): the next
  TBACK=$(losetup -f --show --sizelimit $((768 << 20)) "$BACK")
  SBACK=$(losetup -f --show -o $((768 << 20)) --sizelimit $((256 << 20)) "$BACK")
  # the two processes of 15-19 start now, beside the first one: JVM starts are the slow part under TCG
  NQN_S=nqn.2026-11.io.sanport:two-processes
  export_one() {   # export_one NAME TRSVCID CNTLID_MIN CNTLID_MAX: a sanport process on the shared disk; echoes its pid
    ( exec "$SANPORT_MP_JAVA/bin/java" "${jflags[@]}" -cp "$SANPORT_MP_LIB/*" io.sanport.cli.Main export \
        --device $SBACK --nqn "$NQN_S" --address $ADDR --port "$2" --allow-any-host --discovery-port 0 \
        --no-control-socket --shared-device --cntlid-min "$3" --cntlid-max "$4" ) >>"$WORK/$1.log" 2>&1 &
    echo $!
  }
  ups() { [ "$(grep -c '^serving' "$WORK/$1.log" 2>/dev/null)" -ge "${2:-1}" ]; }   # ups NAME [N]: serving for the Nth time
  pa=$(export_one a 4422 1 999); pb=$(export_one b 4423 1000 1999)
  spid="$pa $pb"
  cat > "$WORK/sanport.json" <<JSON
{ "ports": [
    { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "$ADDR2", "trsvcid": "4420" },
      "ana_groups": [ { "grpid": 1, "ana": { "state": "optimized" } } ], "subsystems": [ "$NQN" ] },
    { "portid": 2, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "$ADDR", "trsvcid": "4421" },
      "ana_groups": [ { "grpid": 1, "ana": { "state": "non-optimized" } } ], "subsystems": [ "$NQN" ] }$rports ],
  "subsystems": [
    { "nqn": "$NQN", "attr": { "allow_any_host": "1" },
      "namespaces": [ { "nsid": 1, "ana_grpid": 1, "device": { "path": "$TBACK" } } ] }$rsub ] }
JSON

  # ---- 1. the target
  ( exec "$SANPORT_MP_JAVA/bin/java" "${jflags[@]}" -cp "$SANPORT_MP_LIB/*" io.sanport.cli.Main \
      serve --config "$WORK/sanport.json" --discovery-port 0 --control-socket "$SOCK" ) >"$LOG" 2>&1 &
  spid="$spid $!" spid1=$!
  serving() { grep -q '^serving' "$LOG" && ss -Hltn "sport = :4420" | grep -q "$ADDR2" && ss -Hltn "sport = :4421" | grep -q "$ADDR"; }
  for _ in $(seq 1800); do serving && break; kill -0 "$spid1" 2>/dev/null || break; sleep 0.1; done
  if serving; then ok "1 sanport serves one subsystem on $ADDR2:4420 (ANA optimized) and $ADDR:4421 (non-optimized)$([ "$RDMA" = 1 ] && echo ", another on RDMA $ADDR:4430 / 4431")"
  else ko "1 sanport does not serve both ports"; dump_log; exit 1; fi

  # ---- 2. native multipath
  mp=$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)
  if [ "$mp" = Y ]; then ok "2 nvme_core.multipath=Y (Debian's default)"; else ko "2 nvme_core.multipath='$mp'"; fi

  # ---- 3. two paths, one namespace
  ctrl_of() {   # ctrl_of TRSVCID [NQN]: the live controller of the NQN through that port
    local c
    for c in /sys/class/nvme/nvme*; do
      [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "${2:-$NQN}" ] && [ "$(cat "$c/state" 2>/dev/null)" = live ] \
        && grep -q "trsvcid=$1" "$c/address" 2>/dev/null && { echo "${c##*/}"; return 0; }
    done
    return 1
  }
  path_state() { cat /sys/class/nvme/"$1"/nvme*c*n1/ana_state 2>/dev/null | head -1; }   # the path's ANA state
  ctrl_state() { cat /sys/class/nvme/"$1"/state 2>/dev/null; }
  head_dev() {   # head_dev [NQN]: the multipath head's block device (nvmeXnY, not the hidden nvmeXcYnZ)
    local b ma mi d
    for b in /sys/block/nvme*n*; do
      [[ "${b##*/}" =~ ^nvme[0-9]+n[0-9]+$ ]] && [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "${1:-$NQN}" ] || continue
      d=/dev/${b##*/}
      [ -b "$d" ] || { IFS=: read -r ma mi < "$b/dev"; mknod "$d" b "$ma" "$mi"; }
      echo "$d"
    done
  }
  wait_for() {   # wait_for SECONDS CMD...: until CMD succeeds, SECONDS of wall time at most (a CMD may be slow)
    local end=$(( ${EPOCHREALTIME/./} + $1 * 1000000 )); shift
    until "$@"; do [ "${EPOCHREALTIME/./}" -lt $end ] || return 1; sleep 0.1; done
  }
  state_is() { [ "$(path_state "$1")" = "$2" ]; }
  live_state_is() { [ "$(ctrl_state "$1")" = live ] && state_is "$1" "$2"; }
  commands() { rpc nvmf_subsystem_get_controllers null "$1"; }   # commands PORT_ID: read + write commands there
  grown() { [ "$(commands "$1")" -ge "$2" ] 2>/dev/null; }       # grown PORT_ID N: port PORT_ID has served N commands
  set_ana() { rpc nvmf_subsystem_listener_set_ana_state "{\"port_id\": $1, \"anagrpid\": 1, \"ana_state\": \"$2\"}" 2>&1; }
  out1=$(nvme connect -t tcp --reconnect-delay 2 -a $ADDR2 -s 4420 -n "$NQN" 2>&1); rc1=$?
  out2=$(nvme connect -t tcp --reconnect-delay 2 -a $ADDR -s 4421 -n "$NQN" 2>&1); rc2=$?
  wait_for 30 ctrl_of 4420 >/dev/null; wait_for 30 ctrl_of 4421 >/dev/null
  C1=$(ctrl_of 4420) C2=$(ctrl_of 4421)
  wait_for 30 state_is "$C1" optimized; wait_for 30 state_is "$C2" non-optimized
  devs=$(head_dev)
  idc=$(nvme id-ctrl "/dev/$C1" 2>&1)
  field() { sed -nE "s/^$1 +: +(.*)$/\1/p" <<<"$idc" | head -1; }
  if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ -n "$C1" ] && [ -n "$C2" ] && [ "$(wc -w <<<"$devs")" = 1 ] \
     && [ "$(path_state "$C1")" = optimized ] && [ "$(path_state "$C2")" = non-optimized ] \
     && [ $(( $(field cmic) )) = 11 ] && [ $(( $(field anacap) )) = 31 ] && [ $(( $(field anagrpmax) )) = 128 ]; then
    DEV=$devs
    ok "3 two paths ($C1 via :4420 optimized, $C2 via :4421 non-optimized), one namespace $DEV; cmic $(field cmic), anacap $(field anacap), anatt $(field anatt), anagrpmax $(field anagrpmax)"
  else
    ko "3 two paths: connect rc $rc1/$rc2 ($out1 / $out2), controllers '$C1' '$C2', heads '$devs', states '$(path_state "$C1")' '$(path_state "$C2")', cmic '$(field cmic)' anacap '$(field anacap)'"
    dmesg | grep -i nvme | tail -20 | sed 's/^/  | /'; dump_log; exit 1
  fi

  # ---- 4. what the host's tools show is what the config says
  ls_out=$(nvme list-subsys "$DEV" 2>&1); al1=$(nvme ana-log "/dev/$C1" 2>&1); al2=$(nvme ana-log "/dev/$C2" 2>&1)
  if grep -q "$NQN" <<<"$ls_out" && grep -Eq "$C1 tcp traddr=$ADDR2,? ?trsvcid=4420.* live optimized" <<<"$ls_out" \
     && grep -Eq "$C2 tcp traddr=$ADDR,? ?trsvcid=4421.* live non-optimized" <<<"$ls_out" \
     && grep -Eiq 'state\s*:\s*optimized' <<<"$al1" && grep -Eiq 'state\s*:\s*non-optimized' <<<"$al2" \
     && grep -Eiq 'grpid\s*:\s*1' <<<"$al1"; then
    ok "4 nvme list-subsys: $C1 :4420 live optimized, $C2 :4421 live non-optimized; nvme ana-log: group 1 optimized via $C1, non-optimized via $C2"
  else
    ko "4 nvme list-subsys / ana-log do not match the config"
    printf '%s\n' "$ls_out" "$al1" "$al2" | sed 's/^/  | /'
  fi

  # ---- 5-8 under one fio verify run on the multipath device
  fio_start ports "$DEV" 128M
  wait_for 60 grown 1 300; note "fio runs on port 1"
  # 5. inaccessible -> I/O moves to port 2
  out=$(set_ana 1 inaccessible)
  if wait_for 20 state_is "$C1" inaccessible; then
    note "$C1 inaccessible"
    sleep 1; b1=$(commands 1) b2=$(commands 2)
    if wait_for 30 grown 2 $((b2 + 300)) && [ "$(commands 1)" = "$b1" ] && kill -0 $fpid 2>/dev/null; then
      ok "5 port 1 inaccessible: the host's path $C1 says inaccessible, port 1 stands still at $b1 commands while port 2 serves 300 more, fio runs on"
    else ko "5 port 1 inaccessible: port 1 commands $b1 -> $(commands 1), port 2 $b2 -> $(commands 2), fio $(kill -0 $fpid 2>/dev/null && echo runs || echo ended)"; fi
  else
    ko "5 the path $C1 is '$(path_state "$C1")' 20 s after set_ana_state inaccessible ($out)"; dump_log
  fi
  # 6. optimized again -> failback; through the operator's command (the others use the control socket directly:
  # a JVM starts slowly under TCG)
  out=$(sanport ana-state --port-id 1 --state optimized --control-socket "$SOCK" 2>&1 | grep -v '^Picked up' | tail -3)
  if grep -q 'port 1 group 1: optimized' <<<"$out" && wait_for 20 state_is "$C1" optimized; then
    b1=$(commands 1)
    if wait_for 30 grown 1 $((b1 + 300)); then ok "6 failback: 'sanport ana-state --port-id 1 --state optimized' says '$out'; $C1 optimized again, port 1 serves again"
    else ko "6 failback: $C1 optimized but port 1 commands $b1 -> $(commands 1)"; fi
  else
    ko "6 the path $C1 is '$(path_state "$C1")' 20 s after sanport ana-state --state optimized ($out)"
  fi
  # 7. the optimized path's address goes away: the host notices (keep-alive), I/O goes on through port 2
  ip addr del "$ADDR2/16" dev $NETDEV; t_down=$EPOCHREALTIME
  not_live() { [ "$(ctrl_state "$C1")" != live ]; }
  if wait_for 60 not_live; then
    b2=$(commands 2)
    if wait_for 30 grown 2 $((b2 + 300)) && kill -0 $fpid 2>/dev/null; then
      ok "7 $ADDR2 deleted: $C1 is '$(ctrl_state "$C1")' after $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t_down}") s, port 2 serves, fio runs on"
    else ko "7 $ADDR2 deleted: port 2 commands $b2 -> $(commands 2), fio $(kill -0 $fpid 2>/dev/null && echo runs || echo ended)"; fi
  else ko "7 $ADDR2 deleted: $C1 still live after 60 s"; fi
  # 8. the address returns: the host reconnects by itself (every 2 s: --reconnect-delay 2) and fails back
  ip addr add "$ADDR2/16" dev $NETDEV; t_up=$EPOCHREALTIME
  if wait_for 90 live_state_is "$C1" optimized; then
    b1=$(commands 1)
    if wait_for 30 grown 1 $((b1 + 300)); then
      ok "8 $ADDR2 back: $C1 live and optimized again after $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t_up}") s, port 1 serves again"
    else ko "8 $ADDR2 back: $C1 live but port 1 commands $b1 -> $(commands 1)"; fi
  else ko "8 $ADDR2 back: $C1 is '$(ctrl_state "$C1")' '$(path_state "$C1")' after 90 s"; fi
  # 9. not one error through all of it
  if fio_stop; then
    read -r _ lat ios <<<"$FIO"
    ok "9 fio randwrite verify=crc32c through 5-8: no I/O or verify error ($ios I/Os; the longest I/O ${lat} ms: the dead address until keep-alive)"
  else ko "9 $(fio_fail)"; fi

  nvme disconnect -n "$NQN" >/dev/null 2>&1

  # ---- 11-13 (--rdma) the same failover over NVMe/RDMA: port 3 inaccessible -> port 4 serves -> back
  if [ "$RDMA" = 1 ]; then
    nvme connect -t rdma -a $ADDR -s 4430 -n "$NQN_R" >/dev/null 2>&1; nvme connect -t rdma -a $ADDR -s 4431 -n "$NQN_R" >/dev/null 2>&1
    wait_for 30 ctrl_of 4430 "$NQN_R" >/dev/null; wait_for 30 ctrl_of 4431 "$NQN_R" >/dev/null
    R1=$(ctrl_of 4430 "$NQN_R") R2=$(ctrl_of 4431 "$NQN_R"); rdevs=$(head_dev "$NQN_R")
    wait_for 30 state_is "$R1" optimized; wait_for 30 state_is "$R2" non-optimized
    if [ -n "$R1" ] && [ -n "$R2" ] && [ "$(wc -w <<<"$rdevs")" = 1 ] && state_is "$R1" optimized && state_is "$R2" non-optimized \
       && grep -q "$R1 rdma" <<<"$(nvme list-subsys "$rdevs" 2>&1)"; then
      ok "11 nvme-rdma: two paths ($R1 via :4430 optimized, $R2 via :4431 non-optimized), one namespace $rdevs"
      fio_start rdma "$rdevs" 64M
      wait_for 60 grown 3 300
      out=$(set_ana 3 inaccessible)
      if wait_for 20 state_is "$R1" inaccessible; then
        sleep 1; b3=$(commands 3) b4=$(commands 4)
        if wait_for 30 grown 4 $((b4 + 300)) && [ "$(commands 3)" = "$b3" ]; then ok "12 RDMA port 3 inaccessible: $R1 inaccessible, port 3 stands still, port 4 serves"
        else ko "12 RDMA port 3 inaccessible: port 3 $b3 -> $(commands 3), port 4 $b4 -> $(commands 4)"; fi
      else ko "12 the RDMA path $R1 is '$(path_state "$R1")' 20 s after inaccessible ($out)"; fi
      out=$(set_ana 3 optimized)
      b3=$(commands 3)
      if wait_for 20 state_is "$R1" optimized && wait_for 30 grown 3 $((b3 + 300)) && fio_stop; then
        read -r _ lat ios <<<"$FIO"
        ok "13 RDMA failback: $R1 optimized, port 3 serves again; fio verify no error ($ios I/Os, longest I/O ${lat} ms)"
      else [ -n "$fpid" ] && fio_stop; ko "13 RDMA failback: $R1 '$(path_state "$R1")', port 3 $b3 -> $(commands 3), $(fio_fail)"; fi
    else
      ko "11 nvme-rdma: controllers '$R1' '$R2', heads '$rdevs'"; dmesg | grep -i nvme | tail -10 | sed 's/^/  | /'
    fi
    nvme disconnect -n "$NQN_R" >/dev/null 2>&1
  fi

  # ---- 14. SIGTERM
  kill -TERM "$spid1"
  for _ in $(seq 300); do kill -0 "$spid1" 2>/dev/null || break; sleep 0.1; done
  wait "$spid1"; src=$?; spid="$pa $pb"
  if [ $src = 0 ] && grep -q '^stopped$' "$LOG"; then ok "14 sanport exits 0 on SIGTERM and says 'stopped'"
  else ko "14 sanport exit $src"; fi
  grep -Eiq 'exception|severe' "$LOG" && { note "the target's log has exceptions:"; grep -Ei -A3 'exception|severe' "$LOG" | head -20 | sed 's/^/  | /'; }

  # ---- 15. two processes, one subsystem, one shared device
  NQN=$NQN_S
  wait_for 180 ups a; wait_for 180 ups b
  nvme connect -t tcp --reconnect-delay 2 -a $ADDR -s 4422 -n "$NQN" >/dev/null 2>&1; nvme connect -t tcp --reconnect-delay 2 -a $ADDR -s 4423 -n "$NQN" >/dev/null 2>&1
  wait_for 30 ctrl_of 4422 >/dev/null; wait_for 30 ctrl_of 4423 >/dev/null
  CA=$(ctrl_of 4422) CB=$(ctrl_of 4423); devs=$(head_dev)
  ida=$(cat /sys/class/nvme/$CA/cntlid 2>/dev/null) idb=$(cat /sys/class/nvme/$CB/cntlid 2>/dev/null)
  DEV=""
  if ups a && ups b && grep -q 'SHARED DEVICE' "$WORK/a.log" && [ -n "$CA" ] && [ -n "$CB" ] && [ "$(wc -w <<<"$devs")" = 1 ] \
     && [ "${ida:-0}" -ge 1 ] && [ "${ida:-0}" -le 999 ] && [ "${idb:-0}" -ge 1000 ] && [ "${idb:-0}" -le 1999 ]; then
    DEV=$devs
    ok "15 two sanport processes share the disk (warned: SHARED DEVICE): one subsystem, one namespace $DEV, paths $CA (cntlid $ida) and $CB (cntlid $idb)"
  else
    ko "15 two processes: up $(ups a && echo a) $(ups b && echo b), controllers '$CA' '$CB' (cntlid '$ida' '$idb'), heads '$devs'"
    tail -5 "$WORK/a.log" "$WORK/b.log" | sed 's/^/  | /'
  fi

  if [ -n "$DEV" ]; then
    # ext4 on the multipath device: checksummed files written before, fio verify on a file beside them during 16-18
    mkdir -p "$MNT"
    if mkfs.ext4 -q -F "$DEV" && mount "$DEV" "$MNT"; then
      for i in 1 2 3 4; do head -c $((4 << 20)) /dev/urandom > "$MNT/f$i"; done
      (cd "$MNT" && sha256sum f? > "$WORK/sums") && sync
    fi
    # ---- 16. SIGKILL one under fio verify: no error; the longest I/O is the failover stall
    writes() {   # write I/Os completed, summed over the paths (6.1 keeps no I/O statistics on the multipath head)
      local f st n=0
      for f in /sys/block/nvme*c*n*/stat; do [ -e "$f" ] && read -ra st < "$f" && n=$((n + st[4])); done
      echo $n
    }
    wrote() { [ "$(writes)" -ge "$1" ]; }
    fio_start kill "$MNT/fio.dat" 32M
    wait_for 120 wrote $(( $(writes) + 1500 ))   # laid out and running
    kill -KILL "$pa"
    gone() { [ "$(ctrl_state "$CA")" != live ]; }
    wait_for 60 gone; wait_for 60 wrote $(( $(writes) + 500 ))   # I/O goes on after the failover
    if fio_stop; then
      read -r _ lat ios <<<"$FIO"; KILL_MS=$lat
      ok "16 SIGKILL of the process behind $CA under fio randwrite verify on ext4: no I/O or verify error; the longest I/O took ${lat} ms"
    else ko "16 after the SIGKILL: $(fio_fail)"; fi
    # ---- 17. restart it: the path comes back live by itself
    fio_start rolling "$MNT/fio.dat" 32M
    pa=$(export_one a 4422 1 999); spid="$pa $pb"
    if wait_for 180 ups a 2 && wait_for 60 ctrl_of 4422 >/dev/null; then
      ok "17 restarted: the host reconnected $(ctrl_of 4422) through :4422 by itself ($(nvme list-subsys "$DEV" 2>&1 | grep -c ' live') paths live)"
    else ko "17 restarted: no live path through :4422 ($(ctrl_state "$CA"))"; fi
    # ---- 18. rolling restart: now the other one (SIGTERM, start), while fio verify runs on
    exited() { ! kill -0 "$1" 2>/dev/null; }   # not our child (started in a command substitution): no wait
    kill -TERM "$pb"; wait_for 60 exited "$pb"
    pb=$(export_one b 4423 1000 1999); spid="$pa $pb"
    if wait_for 180 ups b 2 && wait_for 60 ctrl_of 4423 >/dev/null && fio_stop; then
      read -r _ lat ios <<<"$FIO"
      ok "18 rolling restart (a, then b): both paths live again, fio verify on ext4 through both: no error (longest I/O ${lat} ms)"
    else [ -n "$fpid" ] && fio_stop; ko "18 rolling restart: b $(ups b 2 && echo up), path :4423 $(ctrl_of 4423), $(fio_fail)"; fi
    # ---- 19. ext4 intact
    umount "$MNT"; fsck_out=$(fsck.ext4 -fn "$DEV" 2>&1); frc=$?
    if [ $frc = 0 ] && mount "$DEV" "$MNT" && (cd "$MNT" && sha256sum -c --quiet "$WORK/sums") && [ "$(wc -l < "$WORK/sums")" = 4 ]; then
      ok "19 ext4 across the SIGKILL and the rolling restart: fsck clean, 4 files' sha256 match"
    else ko "19 ext4: fsck exit $frc ($(tail -2 <<<"$fsck_out")), checksums $(cd "$MNT" 2>/dev/null && sha256sum -c "$WORK/sums" 2>&1 | tr '\n' ' ')"; fi
    umount "$MNT" 2>/dev/null
  else
    for n in 16 17 18 19; do ko "$n not run: no two paths"; done
  fi
  nvme disconnect -n "$NQN" >/dev/null 2>&1
  kill -TERM $pa $pb 2>/dev/null; wait $pa $pb 2>/dev/null; spid=""
  losetup -d "$TBACK" "$SBACK" ${RBACK:-} 2>/dev/null
  guest_summary
  exit
fi

RDMA=1
case "${1:-}" in --no-rdma) RDMA=0 ;; "") ;; *) echo "usage: multipath.sh [--no-rdma]" >&2; exit 2 ;; esac
want=$([ $RDMA = 1 ] && echo 18 || echo 15)
vmopts=(); [ $RDMA = 1 ] && vmopts=(--rdma)
t0=$EPOCHREALTIME
summary() { echo "multipath wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
"$HERE/prepare.sh" || { echo "FAIL prepare.sh"; summary 0 1; exit 1; }
for t in fio nvme ss python3 mkfs.ext4 losetup; do
  command -v $t >/dev/null || { echo "FAIL $t is not installed (fio, nvme-cli, iproute2, python3, e2fsprogs, util-linux)"; summary 0 1; exit 1; }
done
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; summary 0 1; exit 1; }
  echo "$build_log" | tail -1
fi
TMP=$(mktemp -d /tmp/sanport-multipath.XXXXXX)
OUT=$TMP/out
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
truncate -s 2G "$TMP/disk.img"
"$HERE/run.sh" --nvme "$TMP/disk.img" "${vmopts[@]}" --timeout 600 \
    --env "SANPORT_MP_LIB=$TMP/lib" --env "SANPORT_MP_JAVA=$JAVA_HOME" \
    -- "$HERE/multipath.sh --in-guest $RDMA" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ "$pass" -ge "$want" ] || { echo "FAIL only $pass checks passed (expected $want)"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
