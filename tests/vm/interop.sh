#!/bin/bash
# interop.sh - sanport's NVMe-oF target against the Linux 6.1 kernel initiator (nvme-tcp / nvme-rdma + nvme-cli),
# one script for both transports. Builds sanport on this machine (./sanport --version), copies its jars aside,
# boots ONE guest (tests/vm/run.sh --nvme on a sparse temporary image; --rdma too for rdma) and, inside, exports
# /dev/nvme0n1 with `sanport export --transport T` on 169.254.77.1:4420 (tcp: dummy netdev sp0, discovery on
# 8009; rdma: SoftRoCE rxe0, discovery on the I/O port), then:
#   1 the target serves and prints the 'nvme connect -t T' line
#   2 nvme discover -t T lists the subsystem
#   3 nvme connect -t T: a new /dev/nvmeXnY; id-ctrl fields (nvmeof.md §7.5; sgls 0x100001 tcp, 0x100005 rdma),
#     id-ns fields, transport and size vs the backing disk
#   4 fio randwrite 4k-128k QD16 verify=crc32c over 96 MiB, then a verify-only pass
#   5 mkfs.ext4, files + sha256sum, umount, disconnect, reconnect, fsck -n, checksums, umount, disconnect
#   6 (tcp only) connect --hdr-digest --data-digest, fio verify, disconnect
#   7 nvme disconnect while fio randrw QD32 runs; the target stays up: reconnect, fio verify, disconnect
#   8 (rdma only) the direct path: keyed-SGL payload bytes copied by Java = 0 while RDMA READ/WRITE moved data
#  10 (tcp only, before 9) live namespaces while the host stays connected: 'sanport rpc nvmf_subsystem_add_ns' of a
#     ram:64M namespace 2 -> a new /dev/nvmeXn2 appears (Namespace Attribute Changed -> rescan), dd a pattern and
#     read it back; 'nvmf_subsystem_remove_ns' while n1 is written and read back -> n2 goes, n1's data intact,
#     I/O on n1 completed meanwhile, same controller (no reconnect)
#   9 SIGTERM: sanport exits 0 within 15 s and says "stopped"
#   with --perf: 4k randread QD32 IOPS over sanport, then over the kernel's nvmet-T exporting the same disk
#   (bench/compare.sh vm-tcp / vm-rdma is the fuller comparison)
# Prints PASS/FAIL per check and "N passed, M failed"; exit 1 if anything failed (13 checks for tcp, 10 for
# rdma). 3-6 min (tcp) and 5 min (rdma) here with 2 busy cores under TCG; the guest is killed after 480 s (600 with --perf).
#   tests/vm/interop.sh --transport tcp|rdma [--perf]   (the target's log tail is printed when a check fails)
# tests/vm/interop-tcp.sh and rdma-transport/src/test/vm/interop-rdma.sh are wrappers. The same file runs the
# guest half (--in-guest).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "${1:-}" = --in-guest ]; then
  TRANSPORT=$2 PERF=${3:-0}
  . "$ROOT/scripts/lib.sh"          # sanport_java_flags; nothing is built here
  NQN=nqn.2026-11.io.sanport:interop-$TRANSPORT PORT=4420
  ADDR=169.254.77.1
  WORK=$(mktemp -d /tmp/interop.XXXXXX)
  LOG=$WORK/target.log
  STATS=$WORK/rdma-stats
  MNT=$WORK/mnt
  cd "$WORK" || exit 1              # fio state files etc. stay in the guest's tmpfs
  . "$HERE/guest-lib.sh"            # PASS/FAIL, connect/disconnect, fio_verify, ext4_roundtrip
  spid=""
  trap host_cleanup EXIT

  case $TRANSPORT in
    tcp)  # the address on a dummy netdev; discovery on its own port, as nvmet-tcp does
      ip link add sp0 type dummy && ip addr add "$ADDR/16" dev sp0 && ip link set sp0 up || { ko "address $ADDR on sp0"; exit 1; }
      DISC_PORT=8009 WANT_SGLS=0x100001 ;;
    rdma) # run.sh --rdma put the address on sanport0 under rxe0; NVMe/RDMA discovery shares the I/O port
      [ -d /sys/class/infiniband/rxe0 ] || { ko "no rxe0: the guest needs tests/vm/run.sh --rdma"; exit 1; }
      DISC_PORT=4420 WANT_SGLS=0x100005 ;;
  esac
  BACK=/dev/nvme0n1
  back_bytes=$(blockdev --getsize64 $BACK)
  back_lbads=$(awk '{print int(log($1)/log(2) + 0.5)}' /sys/block/nvme0n1/queue/logical_block_size)

  # ---- 1. the target
  SANPORT_RDMA_STATS=$STATS "$SANPORT_INTEROP_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_INTEROP_LIB/*" \
      io.sanport.cli.Main export --device $BACK --transport "$TRANSPORT" --address $ADDR --port 4420 --nqn "$NQN" \
      --allow-any-host --discovery-port "$([ "$TRANSPORT" = tcp ] && echo 8009 || echo 0)" \
      --control-socket "$WORK/sanport.sock" >"$LOG" 2>&1 &
  spid=$!
  serving() {
    grep -q '^serving' "$LOG" && grep -q "listening: $TRANSPORT $ADDR:4420" "$LOG" || return 1
    [ "$TRANSPORT" = rdma ] || { ss -Hltn "sport = :4420" | grep -q "$ADDR:4420" && ss -Hltn "sport = :8009" | grep -q "$ADDR:8009"; }
  }
  for _ in $(seq 1200); do   # up to 120 s: a C1-only JVM under TCG (5 s here when the machine is idle)
    serving && break
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  if serving; then
    ok "1 sanport exports $BACK ($back_bytes bytes) over $TRANSPORT on $ADDR:4420, discovery on $DISC_PORT"
  else
    ko "1 sanport does not serve $TRANSPORT $ADDR:4420 (discovery $DISC_PORT)"; dump_log; exit 1
  fi
  grep -q "nvme connect -t $TRANSPORT -a $ADDR -s 4420 -n $NQN" "$LOG" || ko "1 the 'nvme connect -t $TRANSPORT' line is not printed"

  # ---- 2. discovery
  if discovered "$DISC_PORT"; then
    ok "2 nvme discover -t $TRANSPORT lists $NQN at $TRANSPORT $ADDR:4420 ($(grep -c '^=====Discovery Log Entry' <<<"$disc") entries)"
  else
    ko "2 nvme discover -t $TRANSPORT -s $DISC_PORT (rc $rc)"; sed 's/^/  | /' <<<"$disc"; dump_log
  fi

  # ---- 3. connect, identify
  fields() {   # fields ARRAY TEXT: "key : value" lines of nvme-cli's output into ARRAY (first one wins)
    local -n into=$1; local line
    while IFS= read -r line; do
      [[ "$line" =~ ^([a-z0-9]+)[[:space:]]*:[[:space:]]*(.*[^[:space:]])?[[:space:]]*$ ]] || continue
      [ -n "${into[${BASH_REMATCH[1]}]+x}" ] || into[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
    done <<<"$2"
  }
  if connect; then
    ok "3 nvme connect -t $TRANSPORT: controller $CTRL, namespace $DEV ($(cat /sys/class/nvme/$CTRL/transport) $(cat /sys/class/nvme/$CTRL/address | tr -d '\n'))"
    idc=$(nvme id-ctrl "/dev/$CTRL" 2>&1)
    declare -A IC=() IN=()
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
    expect_n sgls "$WANT_SGLS"; expect_n cmic 0xb; expect_n oaes 0x900; expect_n anacap 0x1f; expect_n anatt 10; expect_n ver 0x10300; expect_n nn 1
    expect_n cntlid "$(cat /sys/class/nvme/$CTRL/cntlid)"
    mdts=$(f mdts); [[ "$mdts" =~ ^[5-8]$ ]] || bad+=" mdts='$mdts'(want 5..8)"
    maxcmd=$(f maxcmd); [ "${maxcmd:-0}" -ge 128 ] 2>/dev/null || bad+=" maxcmd='$maxcmd'(want >=128)"
    [ $(( $(f oncs) & 0xC )) = 12 ] || bad+=" oncs='$(f oncs)'(want 0xc: write zeroes + DSM)"
    [ "$(cat /sys/class/nvme/$CTRL/serial | tr -d ' \n')" = "$want_sn" ] || bad+=" sysfs serial"
    [ "$(cat /sys/class/nvme/$CTRL/transport)" = "$TRANSPORT" ] || bad+=" transport '$(cat /sys/class/nvme/$CTRL/transport)'"
    if [ -z "$bad" ]; then
      ok "3 id-ctrl: subnqn, mn=sanport, sn=$want_sn, cntlid $(f cntlid), mdts $mdts, maxcmd $maxcmd, ioccsz 516, iorcsz 1, icdoff 0, msdbd 1, sgls $WANT_SGLS, kas 10, cmic 0xb (ANA), oaes 0x900, anacap 0x1f, anatt 10, oncs $(f oncs), ver 1.3, transport $TRANSPORT"
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
    check "4 fio randwrite 4k-128k QD16 over 96 MiB, verify=crc32c, then a verify-only pass" fio_verify plain 96M

    # ---- 5. a filesystem across a reconnect
    check "5 mkfs.ext4, files + sha256, umount, disconnect, reconnect, fsck -n clean, checksums match, disconnect" ext4_roundtrip
  else
    ko "3 nvme connect -t $TRANSPORT"; dump_log
  fi

  # ---- 6. digests (NVMe/TCP only: RDMA has its own link-level CRCs)
  if [ "$TRANSPORT" = tcp ]; then
    if connect --hdr-digest --data-digest; then
      ok "6 nvme connect --hdr-digest --data-digest: $CTRL $DEV"
      check "6 fio randwrite verify=crc32c + verify-only pass with header and data digests" fio_verify digest
      check "6 nvme disconnect" disconnect
    else
      ko "6 nvme connect --hdr-digest --data-digest"; dump_log
    fi
  fi

  # ---- 7. the host goes away mid-I/O
  midio() {
    connect || return 1
    fio --name=midio --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randrw --bsrange=4k-64k --iodepth=32 \
        --time_based --runtime=30 --size=512M >"$WORK/midio.log" 2>&1 &
    local fpid=$! i out
    sleep 4
    kill -0 $fpid 2>/dev/null || { note "fio ended before the disconnect: $(tail -3 "$WORK/midio.log")"; return 1; }
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
  check "7 nvme disconnect while fio randrw QD32 runs; the target stays up: reconnect, fio verify, disconnect" midio

  # ---- 8. the direct path (NVMe/RDMA only)
  if [ "$TRANSPORT" = rdma ]; then
    stat_of() { sed -n "s/^$1=//p" "$STATS" 2>/dev/null; }
    sleep 1.5   # the stats file is rewritten every second
    copied=$(stat_of keyed_bytes_copied) rd=$(stat_of rdma_read_bytes) wr=$(stat_of rdma_write_bytes)
    inv=$(stat_of sends_with_invalidate) inl=$(stat_of in_capsule_bytes_copied)
    note "rdma stats: $(tr '\n' ' ' < "$STATS" 2>/dev/null)"
    if [ "$copied" = 0 ] && [ "${rd:-0}" -gt 0 ] && [ "${wr:-0}" -gt 0 ] && [ "${inv:-0}" -gt 0 ]; then
      ok "8 zero copy: keyed-SGL bytes copied by Java = 0; RDMA READ $((rd >> 20)) MiB into pool buffers, RDMA WRITE $((wr >> 20)) MiB from them, $inv SEND_WITH_INVALIDATE (in-capsule bytes copied: $((inl >> 20)) MiB)"
    else
      ko "8 zero copy: keyed_bytes_copied='$copied' rdma_read_bytes='$rd' rdma_write_bytes='$wr' sends_with_invalidate='$inv'"
    fi
  fi

  # ---- 10. namespaces come and go while the host stays connected (NVMe/TCP run only: one guest boot is enough)
  rpc() {   # sanport rpc METHOD [PARAMS] on the target's control socket; a small JVM (C1 only, serial GC): it
            # starts while the guest's two TCG vCPUs also run the target and the host's I/O
    "$SANPORT_INTEROP_JAVA/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -XX:CICompilerCount=1 -cp "$SANPORT_INTEROP_LIB/*" io.sanport.cli.Main \
        rpc "$@" --control-socket "$WORK/sanport.sock" 2>&1
  }
  ns_dev() {   # ns_dev NSID: /dev/nvmeXnY of our subsystem with that NSID (mknod'ed: no udev here), or nothing
    local b ma mi d
    for b in /sys/block/nvme*n*; do
      [[ "${b##*/}" =~ ^nvme[0-9]+n[0-9]+$ ]] && [ -r "$b/dev" ] || continue
      [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$NQN" ] && [ "$(cat "$b/nsid" 2>/dev/null)" = "$1" ] || continue
      d=/dev/${b##*/}
      [ -b "$d" ] || { IFS=: read -r ma mi < "$b/dev"; mknod "$d" b "$ma" "$mi"; }
      echo "$d"; return 0
    done
    return 1
  }
  n1_io() {   # 4 MiB written to namespace 1 and read back, pass after pass, until $WORK/stop; counts in $WORK/passes
    local i=0 o
    while [ ! -e "$WORK/stop" ]; do
      o=$((512 + (i % 16) * 4))
      dd if="$WORK/pattern" of="$DEV" bs=1M seek=$o oflag=direct status=none \
        && dd if="$DEV" of="$WORK/back1" bs=1M skip=$o count=4 iflag=direct status=none \
        && cmp -s "$WORK/pattern" "$WORK/back1" || { echo "pass $i at $o MiB failed" > "$WORK/ioerr"; return 1; }
      i=$((i + 1)); echo $i > "$WORK/passes"
    done
  }
  livens() {
    # a keep-alive timeout of 30 s, not 5: two JVMs and the host's I/O on two TCG vCPUs may delay the kernel's
    # keep-alive work past 5 s, and a reconnect is what this check must not see
    local ctrl cntlid n2="" i out t iopid p0 p1 l0
    l0=$(wc -l < "$LOG")
    connect --keep-alive-tmo=30 || return 1
    ctrl=$CTRL
    cntlid=$(cat /sys/class/nvme/$ctrl/cntlid)
    t=$(cut -d' ' -f1 /proc/uptime)
    out=$(rpc nvmf_subsystem_add_ns "{\"nqn\": \"$NQN\", \"namespace\": {\"nsid\": 2, \"device_path\": \"ram:64M\"}}") \
      || { note "nvmf_subsystem_add_ns: $out"; return 1; }
    for i in $(seq 150); do n2=$(ns_dev 2) && blockdev --getsize64 "$n2" >/dev/null 2>&1 && break; n2=""; sleep 0.1; done
    [ -n "$n2" ] || { note "no namespace 2 15 s after add_ns: $(nvme list 2>&1 | tail -4 | tr '\n' ' ')"; return 1; }
    note "add_ns -> $n2 in $(awk -v a="$t" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f", b - a}') s (rpc JVM start included), $(blockdev --getsize64 "$n2") bytes"
    [ "$(blockdev --getsize64 "$n2")" = $((64 << 20)) ] || { note "$n2 is not 64 MiB"; return 1; }
    [ "$(cat /sys/class/nvme/$ctrl/state)" = live ] && [ "$(cat /sys/class/nvme/$ctrl/cntlid)" = "$cntlid" ] \
      || { note "controller $ctrl is no longer the same live one"; return 1; }
    head -c $((4 << 20)) /dev/urandom > "$WORK/pattern"
    dd if="$WORK/pattern" of="$n2" bs=1M seek=3 oflag=direct status=none || { note "dd to $n2 failed"; return 1; }
    dd if="$n2" of="$WORK/back" bs=1M skip=3 count=4 iflag=direct status=none || { note "dd from $n2 failed"; return 1; }
    cmp -s "$WORK/pattern" "$WORK/back" || { note "$n2 read back differs"; return 1; }
    note "4 MiB pattern written to $n2 and read back identical"
    # remove it while namespace 1 is written and read back
    rm -f "$WORK/stop" "$WORK/ioerr"; echo 0 > "$WORK/passes"
    n1_io & iopid=$!
    sleep 1
    p0=$(cat "$WORK/passes")
    out=$(rpc nvmf_subsystem_remove_ns "{\"nqn\": \"$NQN\", \"nsid\": 2}")
    local rc=$?
    for i in $(seq 150); do [ $rc = 0 ] && [ -e "/sys/block/${n2#/dev/}" ] || break; sleep 0.1; done
    p1=$(cat "$WORK/passes")
    touch "$WORK/stop"; wait $iopid
    [ $rc = 0 ] || { note "nvmf_subsystem_remove_ns: $out"; return 1; }
    [ ! -e "/sys/block/${n2#/dev/}" ] || { note "$n2 still there 15 s after remove_ns"; return 1; }
    rm -f "$n2"
    [ ! -e "$WORK/ioerr" ] || { note "I/O on $DEV during the removal: $(cat "$WORK/ioerr")"; return 1; }
    [ "$p1" -gt "$p0" ] || { note "no I/O on $DEV completed while namespace 2 was removed ($p0 passes before)"; return 1; }
    note "remove_ns -> $n2 gone; meanwhile $((p1 - p0)) passes of 4 MiB written to $DEV and read back identical"
    [ "$(cat /sys/class/nvme/$ctrl/state 2>/dev/null)" = live ] && [ "$(cat /sys/class/nvme/$ctrl/cntlid 2>/dev/null)" = "$cntlid" ] \
      || { note "the controller changed (cntlid $cntlid -> $(cat /sys/class/nvme/$ctrl/cntlid 2>/dev/null))"; return 1; }
    tail -n +$((l0 + 1)) "$LOG" | grep -q "keep-alive timeout" && { note "a keep-alive timeout in the target's log"; return 1; }
    disconnect
  }
  if [ "$TRANSPORT" = tcp ]; then
    check "10 live namespaces: add_ns -> /dev/nvmeXn2 appears without reconnecting, dd pattern read back; remove_ns during I/O on n1 -> it goes, n1's data intact, same controller" livens
  fi

  # ---- perf (optional): 4k randread QD32, sanport now, the kernel's nvmet after the SIGTERM check
  randread() {   # prints IOPS
    fio --name=rr --filename="$DEV" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32 \
        --time_based --runtime=${SANPORT_PERF_SECONDS:-10} --ramp_time=2 --size=1G --output-format=terse --terse-version=3 2>&1 \
      | tail -1 | awk -F';' '{print $8}'
  }
  if [ "$PERF" = 1 ] && connect; then
    iops_sanport=$(randread); disconnect
    note "PERF sanport nvme-$TRANSPORT 4k randread QD32: ${iops_sanport} IOPS"
  fi

  # ---- 9. SIGTERM
  kill -TERM "$spid"; t_term=$(cut -d' ' -f1 /proc/uptime)
  for _ in $(seq 300); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$spid" 2>/dev/null; then
    ko "9 sanport still runs 30 s after SIGTERM"; kill -KILL "$spid"; wait "$spid"
  else
    wait "$spid"; rc=$?
    took=$(awk -v a="$t_term" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f", b - a}')
    # a reactor that kept a ring operation posted would make its close wait 30 s
    if [ $rc = 0 ] && grep -q '^stopped$' "$LOG" && awk -v t="$took" 'BEGIN{exit !(t < 15)}'; then
      ok "9 SIGTERM: sanport exits 0 in $took s and says 'stopped'"
    else ko "9 SIGTERM: exit $rc after $took s, 'stopped' $(grep -q '^stopped$' "$LOG" && echo printed || echo 'not printed')"; fi
  fi
  spid=""

  if [ "$PERF" = 1 ]; then
    # the kernel target on the same disk, same address and port (configfs)
    K=/sys/kernel/config/nvmet
    KNQN=nqn.2026-11.io.sanport:kernel-$TRANSPORT
    mkdir $K/subsystems/$KNQN && echo 1 > $K/subsystems/$KNQN/attr_allow_any_host \
      && mkdir $K/subsystems/$KNQN/namespaces/1 && echo -n $BACK > $K/subsystems/$KNQN/namespaces/1/device_path \
      && echo 1 > $K/subsystems/$KNQN/namespaces/1/enable && mkdir $K/ports/1 \
      && echo "$TRANSPORT" > $K/ports/1/addr_trtype && echo ipv4 > $K/ports/1/addr_adrfam \
      && echo $ADDR > $K/ports/1/addr_traddr && echo 4420 > $K/ports/1/addr_trsvcid \
      && ln -s $K/subsystems/$KNQN $K/ports/1/subsystems/$KNQN
    SNQN=$NQN; NQN=$KNQN
    if connect; then
      iops_kernel=$(randread); disconnect
      note "PERF kernel nvmet-$TRANSPORT 4k randread QD32: ${iops_kernel} IOPS"
      note "PERF ratio sanport/nvmet-$TRANSPORT: $(awk -v a="${iops_sanport:-0}" -v b="${iops_kernel:-0}" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
    fi
    NQN=$SNQN
    rm -f $K/ports/1/subsystems/$KNQN; rmdir $K/ports/1
    echo 0 > $K/subsystems/$KNQN/namespaces/1/enable; rmdir $K/subsystems/$KNQN/namespaces/1 $K/subsystems/$KNQN
  fi

  grep -Eiq 'exception|error|severe' "$LOG" && { note "the target's log has errors:"; grep -Ei -A3 'exception|error|severe' "$LOG" | head -30 | sed 's/^/  | /'; }
  guest_summary
  exit
fi

TRANSPORT="" PERF=0
while [ $# -gt 0 ]; do
  case $1 in
    --transport) TRANSPORT=${2:-}; shift 2 ;;
    --transport=*) TRANSPORT=${1#*=}; shift ;;
    --perf) PERF=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "interop.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case $TRANSPORT in
  tcp) want=13 vmopts=() ;;
  rdma) want=10 vmopts=(--rdma) ;;
  *) echo "interop.sh: --transport tcp|rdma is required" >&2; exit 2 ;;
esac
t0=$EPOCHREALTIME
summary() { echo "interop-$TRANSPORT wall time: $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"; echo "$1 passed, $2 failed"; }
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
TMP=$(mktemp -d "/tmp/sanport-interop-$TRANSPORT.XXXXXX")
OUT=$TMP/out
trap 'rm -rf "$TMP"' EXIT
cp -r "$ROOT/cli/target/lib" "$TMP/lib"
. "$ROOT/scripts/lib.sh" && sanport_find_jdk || { echo "FAIL no JDK"; summary 0 1; exit 1; }
truncate -s 2G "$TMP/disk.img"     # sparse: costs no disk
"$HERE/run.sh" "${vmopts[@]}" --nvme "$TMP/disk.img" --timeout $((PERF ? 600 : 480)) \
    --env "SANPORT_INTEROP_LIB=$TMP/lib" --env "SANPORT_INTEROP_JAVA=$JAVA_HOME" \
    -- "$HERE/interop.sh --in-guest $TRANSPORT $PERF" 2>&1 | grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' | tee "$OUT"
rc=${PIPESTATUS[0]}
pass=$(grep -c '^PASS' "$OUT") fail=$(grep -c '^FAIL' "$OUT")
[ "$pass" -ge $want ] || { echo "FAIL only $pass checks passed (expected $want)"; fail=$((fail + 1)); }
[ "$rc" = 0 ] || { echo "FAIL guest run (run.sh exit $rc)"; fail=$((fail + 1)); }
summary "$pass" "$fail"
[ "$fail" = 0 ]
