#!/bin/bash
# multipath.sh - the Linux 6.1 kernel's native NVMe multipath over sanport's NVMe/TCP target, with ANA. Builds
# sanport on this machine, copies its jars aside, boots ONE guest (tests/vm/run.sh --nvme on a sparse temporary
# image; Debian's kernel has CONFIG_NVME_MULTIPATH=y, so nvme_core.multipath is Y) and, inside, serves
# /dev/nvme0n1 with `sanport serve --config` on two ports of 169.254.77.1 (dummy netdev sp0): port 1 :4420 with
# ANA group 1 optimized, port 2 :4421 non-optimized; then:
#   1 the target serves both ports
#   2 nvme_core.multipath is Y
#   3 nvme connect to each port: two live controllers of one subsystem, ONE namespace block device; id-ctrl says
#     cmic 0xb (ANA), anacap 0x1f, anagrpmax 128; the paths' ana_state (sysfs) optimized / non-optimized;
#     nvme list-subsys and nvme ana-log show them
#   4 under fio randwrite with crc32c verify (verify_backlog): nvmf_subsystem_listener_set_ana_state port 1 inaccessible
#     -> the host marks that path inaccessible and its I/O moves to port 2 (per-controller command counters of the
#     control socket: port 1 stands still, port 2 grows)
#   5 port 1 optimized again -> failback: the path is optimized again and port 1 serves
#   6 fio ends without an I/O or verify error
#   7 `sanport ana-state --port-id 2 --state optimized` (the CLI; 4-6 use the control socket directly, a JVM
#     starts slowly under TCG): the host sees both paths optimized
#   8 disconnect both, SIGTERM: sanport exits 0
#   9 two `sanport export --shared-device` processes on /dev/nvme0n1, one NQN, --cntlid-min/max 1-999 and
#     1000-1999: one namespace, two paths, controller IDs in their ranges
#  10 SIGKILL of one under fio randwrite verify: no I/O or verify error; the longest I/O is reported
#  11 restart it: the host's path through it comes back live by itself
# Prints PASS/FAIL per check and "N passed, M failed"; exit 1 if anything failed (11 checks).
#   tests/vm/multipath.sh                     (the target's log tail is printed when a check fails)
# The same file runs the guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "${1:-}" = --in-guest ]; then
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags; nothing is built here
  TRANSPORT=tcp NQN=nqn.2026-11.io.sanport:multipath PORT=4420 ADDR=169.254.77.1
  WORK=$(mktemp -d /tmp/multipath.XXXXXX)
  LOG=$WORK/target.log MNT=$WORK/mnt SOCK=$WORK/sanport.sock
  cd "$WORK" || exit 1
  . "$HERE/guest-lib.sh"            # PASS/FAIL helpers
  spid="" fpid=""
  cleanup() {
    [ -n "$fpid" ] && kill "$fpid" 2>/dev/null
    nvme disconnect -n "$NQN" >/dev/null 2>&1
    [ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
  }
  trap cleanup EXIT
  sanport() { "$SANPORT_MP_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_MP_LIB/*" io.sanport.cli.Main "$@"; }
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
  rpc() { python3 "$WORK/rpc.py" "$SOCK" "$1" "${2:-null}" "${@:3}"; }   # rpc METHOD [PARAMS-JSON [PORT_ID]]

  ip link add sp0 type dummy && ip addr add "$ADDR/16" dev sp0 && ip link set sp0 up || { ko "address $ADDR on sp0"; exit 1; }
  BACK=/dev/nvme0n1
  cat > "$WORK/sanport.json" <<EOF
{ "ports": [
    { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "$ADDR", "trsvcid": "4420" },
      "ana_groups": [ { "grpid": 1, "ana": { "state": "optimized" } } ], "subsystems": [ "$NQN" ] },
    { "portid": 2, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "$ADDR", "trsvcid": "4421" },
      "ana_groups": [ { "grpid": 1, "ana": { "state": "non-optimized" } } ], "subsystems": [ "$NQN" ] } ],
  "subsystems": [ { "nqn": "$NQN", "attr": { "allow_any_host": "1" },
                    "namespaces": [ { "nsid": 1, "ana_grpid": 1, "device": { "path": "$BACK" } } ] } ] }
EOF

  # ---- 1. the target
  ( exec "$SANPORT_MP_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_MP_LIB/*" io.sanport.cli.Main \
      serve --config "$WORK/sanport.json" --discovery-port 0 --control-socket "$SOCK" ) >"$LOG" 2>&1 &
  spid=$!
  serving() { grep -q '^serving' "$LOG" && ss -Hltn "sport = :4420" | grep -q "$ADDR" && ss -Hltn "sport = :4421" | grep -q "$ADDR"; }
  for _ in $(seq 1200); do serving && break; kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  if serving; then ok "1 sanport serves $BACK on $ADDR:4420 (ANA optimized) and $ADDR:4421 (non-optimized)"
  else ko "1 sanport does not serve both ports"; dump_log; exit 1; fi

  # ---- 2. native multipath
  mp=$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)
  if [ "$mp" = Y ]; then ok "2 nvme_core.multipath=Y (Debian's default)"; else ko "2 nvme_core.multipath='$mp'"; fi

  # ---- 3. two paths, one namespace
  ctrl_of() {   # ctrl_of TRSVCID: the live controller of our NQN through that port
    local c
    for c in /sys/class/nvme/nvme*; do
      [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] && [ "$(cat "$c/state" 2>/dev/null)" = live ] \
        && grep -q "trsvcid=$1" "$c/address" 2>/dev/null && { echo "${c##*/}"; return 0; }
    done
    return 1
  }
  path_state() { cat /sys/class/nvme/"$1"/nvme*c*n1/ana_state 2>/dev/null | head -1; }   # the path's ANA state
  head_dev() {   # the multipath head's block device (nvmeXnY, not the hidden nvmeXcYnZ)
    local b ma mi
    for b in /sys/block/nvme*n*; do
      [[ "${b##*/}" =~ ^nvme[0-9]+n[0-9]+$ ]] && [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
      DEV=/dev/${b##*/}
      [ -b "$DEV" ] || { IFS=: read -r ma mi < "$b/dev"; mknod "$DEV" b "$ma" "$mi"; }
      echo "$DEV"
    done
  }
  wait_for() {   # wait_for SECONDS CMD...: until CMD succeeds
    local n=$(( $1 * 10 )); shift
    for _ in $(seq $n); do "$@" && return 0; sleep 0.1; done
    return 1
  }
  state_is() { [ "$(path_state "$1")" = "$2" ]; }
  out1=$(nvme connect -t tcp -a $ADDR -s 4420 -n "$NQN" 2>&1); rc1=$?
  out2=$(nvme connect -t tcp -a $ADDR -s 4421 -n "$NQN" 2>&1); rc2=$?
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
  note "nvme list-subsys $DEV:"; nvme list-subsys "$DEV" 2>&1 | sed 's/^/  | /'
  note "nvme ana-log /dev/$C1:"; nvme ana-log "/dev/$C1" 2>&1 | sed 's/^/  | /'

  # ---- 4. inaccessible: I/O moves to the other path, under fio verify
  commands() { rpc nvmf_subsystem_get_controllers null "$1"; }   # commands PORT_ID: read + write commands there
  fio --name=mp --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randwrite --bsrange=4k-64k --iodepth=16 \
      --size=64M --loops=100 --verify=crc32c --verify_backlog=64 --verify_fatal=1 --randseed=77 \
      --time_based --runtime=400 >"$WORK/fio.log" 2>&1 &
  fpid=$!
  sleep 5
  a1=$(commands 1)
  out=$(rpc nvmf_subsystem_listener_set_ana_state '{"port_id": 1, "anagrpid": 1, "ana_state": "inaccessible"}' 2>&1)
  if wait_for 15 state_is "$C1" inaccessible; then
    sleep 1; b1=$(commands 1) b2=$(commands 2); sleep 4; c1=$(commands 1) c2=$(commands 2)
    note "port 1 commands $a1 -> $b1 -> $c1, port 2 $b2 -> $c2 ($out)"
    if [ "$c1" = "$b1" ] && [ "$c2" -gt "$b2" ] && kill -0 $fpid 2>/dev/null; then
      ok "4 port 1 inaccessible: the host's path $C1 says inaccessible, port 1 serves nothing, port 2 $((c2 - b2)) commands in 4 s, fio runs on"
    else ko "4 port 1 inaccessible: port 1 commands $b1 -> $c1, port 2 $b2 -> $c2, fio $(kill -0 $fpid 2>/dev/null && echo runs || echo ended)"; fi
  else
    ko "4 the path $C1 is '$(path_state "$C1")' 15 s after 'sanport ana-state --state inaccessible' ($out)"; dump_log
  fi

  # ---- 5. failback
  out=$(rpc nvmf_subsystem_listener_set_ana_state '{"port_id": 1, "anagrpid": 1, "ana_state": "optimized"}' 2>&1)
  if wait_for 15 state_is "$C1" optimized; then
    sleep 1; b1=$(commands 1); sleep 4; c1=$(commands 1)
    if [ "$c1" -gt "$b1" ]; then ok "5 failback: $C1 optimized again, port 1 served $((c1 - b1)) commands in 4 s"
    else ko "5 failback: $C1 optimized but port 1 commands $b1 -> $c1"; fi
  else
    ko "5 the path $C1 is '$(path_state "$C1")' 15 s after 'sanport ana-state --state optimized' ($out)"
  fi

  # ---- 6. no I/O error across it all (fio runs 400 s: 4 and 5 take up to 4 min under a busy TCG guest)
  wait $fpid; frc=$?; fpid=""
  if [ $frc = 0 ] && ! grep -qiE 'verify: bad|error=' "$WORK/fio.log"; then
    ok "6 fio randwrite verify=crc32c through both ANA changes: no I/O or verify error ($(grep -oE 'IOPS=[^,]+' "$WORK/fio.log" | head -1))"
  else ko "6 fio exit $frc: $(tail -5 "$WORK/fio.log")"; fi

  # ---- 7. the operator's command
  out=$(sanport ana-state --port-id 2 --state optimized --control-socket "$SOCK" 2>&1 | grep -v '^Picked up')
  if wait_for 30 state_is "$C2" optimized && grep -q 'port 2 group 1: optimized' <<<"$out"; then
    ok "7 sanport ana-state --port-id 2 --state optimized: '$out'; $C2 is optimized ($(nvme list-subsys "$DEV" 2>&1 | grep -c 'live optimized') paths live optimized)"
  else ko "7 sanport ana-state --port-id 2: '$out', $C2 '$(path_state "$C2")'"; fi
  note "nvme ana-log /dev/$C2:"; nvme ana-log "/dev/$C2" 2>&1 | sed 's/^/  | /'

  # ---- 8. disconnect, SIGTERM
  dout=$(nvme disconnect -n "$NQN" 2>&1)
  kill -TERM "$spid"
  for _ in $(seq 300); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  wait "$spid"; src=$?; spid=""
  if grep -q 'disconnected 2 controller' <<<"$dout" && [ $src = 0 ] && grep -q '^stopped$' "$LOG"; then
    ok "8 $dout; sanport exits 0 on SIGTERM and says 'stopped'"
  else ko "8 disconnect: '$dout', sanport exit $src"; fi
  grep -Eiq 'exception|severe' "$LOG" && { note "the target's log has exceptions:"; grep -Ei -A3 'exception|severe' "$LOG" | head -20 | sed 's/^/  | /'; }

  # ---- 9. two processes, one subsystem, one shared device
  NQN=nqn.2026-11.io.sanport:two-processes
  export_one() {   # export_one NAME TRSVCID CNTLID_MIN CNTLID_MAX: a sanport process on the shared disk; echoes its pid
    ( exec "$SANPORT_MP_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_MP_LIB/*" io.sanport.cli.Main export \
        --device $BACK --nqn "$NQN" --address $ADDR --port "$2" --allow-any-host --discovery-port 0 \
        --no-control-socket --shared-device --cntlid-min "$3" --cntlid-max "$4" ) >>"$WORK/$1.log" 2>&1 &
    echo $!
  }
  up() { grep -q '^serving' "$WORK/$1.log" 2>/dev/null; }
  pa=$(export_one a 4420 1 999); pb=$(export_one b 4421 1000 1999)
  spid="$pa $pb"
  wait_for 180 up a; wait_for 180 up b
  nvme connect -t tcp -a $ADDR -s 4420 -n "$NQN" >/dev/null 2>&1; nvme connect -t tcp -a $ADDR -s 4421 -n "$NQN" >/dev/null 2>&1
  wait_for 30 ctrl_of 4420 >/dev/null; wait_for 30 ctrl_of 4421 >/dev/null
  CA=$(ctrl_of 4420) CB=$(ctrl_of 4421); devs=$(head_dev)
  ida=$(cat /sys/class/nvme/$CA/cntlid 2>/dev/null) idb=$(cat /sys/class/nvme/$CB/cntlid 2>/dev/null)
  if up a && up b && grep -q 'SHARED DEVICE' "$WORK/a.log" && [ -n "$CA" ] && [ -n "$CB" ] && [ "$(wc -w <<<"$devs")" = 1 ] \
     && [ "${ida:-0}" -ge 1 ] && [ "${ida:-0}" -le 999 ] && [ "${idb:-0}" -ge 1000 ] && [ "${idb:-0}" -le 1999 ]; then
    DEV=$devs
    ok "9 two sanport processes share $BACK (warned: SHARED DEVICE): one subsystem, one namespace $DEV, paths $CA (cntlid $ida) and $CB (cntlid $idb)"
  else
    ko "9 two processes: up $(up a && echo a) $(up b && echo b), controllers '$CA' '$CB' (cntlid '$ida' '$idb'), heads '$devs'"
    tail -5 "$WORK/a.log" "$WORK/b.log" | sed 's/^/  | /'
  fi

  # ---- 10. SIGKILL one under fio verify: no error; the longest I/O is reported
  if [ -n "${DEV:-}" ] && [ -n "$CA" ]; then
    fio --name=kill --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randwrite --bsrange=4k-64k --iodepth=16 \
        --size=64M --loops=100 --verify=crc32c --verify_backlog=64 --verify_fatal=1 --randseed=99 \
        --time_based --runtime=60 --output-format=json >"$WORK/kill.json" 2>"$WORK/kill.err" &
    fpid=$!
    sleep 10
    kill -KILL "$pa"; wait "$pa" 2>/dev/null; t_kill=$(cut -d' ' -f1 /proc/uptime)
    wait $fpid; frc=$?; fpid=""
    worst=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
print("%.0f" % (max(j["write"]["clat_ns"]["max"], j["read"]["clat_ns"]["max"]) / 1e6))' "$WORK/kill.json" 2>/dev/null)
    if [ $frc = 0 ]; then
      ok "10 SIGKILL of the process behind $CA under fio randwrite verify: no I/O or verify error; the longest I/O took ${worst:-?} ms"
    else ko "10 fio exit $frc after the SIGKILL: $(tail -3 "$WORK/kill.err")"; fi
  else
    ko "10 not run: no two paths"
  fi

  # ---- 11. restart it: the path comes back live
  pa=$(export_one a 4420 1 999); spid="$pa $pb"
  if wait_for 180 up a && wait_for 60 ctrl_of 4420 >/dev/null; then
    ok "11 restarted: the host reconnected $(ctrl_of 4420) through :4420 by itself ($(nvme list-subsys "$DEV" 2>&1 | grep -c ' live') paths live)"
  else ko "11 restarted: no live path through :4420 ($(cat /sys/class/nvme/$CA/state 2>/dev/null))"; fi
  nvme disconnect -n "$NQN" >/dev/null 2>&1
  kill -TERM $pa $pb 2>/dev/null; wait $pa $pb 2>/dev/null; spid=""
  guest_summary
  exit
fi

want=11
t0=$EPOCHREALTIME
summary() { echo "multipath wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
"$HERE/prepare.sh" || { echo "FAIL prepare.sh"; summary 0 1; exit 1; }
for t in fio nvme ss python3; do
  command -v $t >/dev/null || { echo "FAIL $t is not installed (fio, nvme-cli, iproute2, python3)"; summary 0 1; exit 1; }
done
build_log=$("$ROOT/sanport" --version 2>&1) || { printf '%s\n' "$build_log" | tail -30; echo "FAIL build"; summary 0 1; exit 1; }
echo "$build_log" | tail -1
TMP=$(mktemp -d /tmp/sanport-multipath.XXXXXX)
OUT=$TMP/out
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
truncate -s 2G "$TMP/disk.img"
"$HERE/run.sh" --nvme "$TMP/disk.img" --timeout 1200 \
    --env "SANPORT_MP_LIB=$TMP/lib" --env "SANPORT_MP_JAVA=$JAVA_HOME" \
    -- "$HERE/multipath.sh --in-guest" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ "$pass" -ge $want ] || { echo "FAIL only $pass checks passed (expected $want)"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
