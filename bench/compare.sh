#!/usr/bin/env bash
# Side by side benchmarks: sanport and a peer on the same device, same block size and queue depth, one after
# the other in one run. Prints progress; the last line is one JSON object with the ratios (sanport / peer).
#
#   bench/compare.sh local [--seconds N] [--size 1G]
#       fio (io_uring, direct, fixedbufs, registerfiles) vs `sanport bench local`, on a loop device over a file
#       in /dev/shm that it creates and removes: 4k randread QD32, 4k randread QD1, 128k sequential read QD8,
#       4k randwrite QD32, 128k sequential write QD8. Needs root (losetup) and fio.
#   bench/compare.sh tcp [--seconds N] [--size 1G]
#       on the same kind of loop device: nbdkit (file plugin) + fio's nbd engine vs sanport's target + sanport's
#       Java client over NVMe/TCP on 127.0.0.1, 4k randread QD32, 128k sequential read QD8, 4k randwrite QD32 and
#       128k sequential write QD8; plus iperf3 on loopback for the raw TCP bandwidth. Needs root, fio, nbdkit, iperf3.
#   bench/compare.sh vm-tcp [--seconds N] [--size 1G]
#       in ONE Linux 6.1 guest (tests/vm/run.sh --nvme, an image of random data it creates and removes): the
#       kernel's NVMe/TCP initiator + fio (io_uring, direct) on 169.254.77.1:4420 against sanport's target
#       exporting /dev/nvme0n1, then against the kernel's nvmet-tcp exporting the same disk (configfs), one at a
#       time: 4k randread QD32, 128k sequential read QD8, 4k randwrite QD32, 128k sequential write QD8.
#       Needs root, QEMU (tests/vm/prepare.sh) and fio.
#   bench/compare.sh vm-rdma [--seconds N] [--size 1G]
#       in ONE Linux 6.1 guest with SoftRoCE (tests/vm/run.sh --rdma --nvme, an image of random data it creates
#       and removes): the kernel's NVMe/RDMA initiator + fio (io_uring, direct) on rxe0 169.254.77.1:4420 against
#       sanport's RDMA target exporting /dev/nvme0n1, then against the kernel's nvmet-rdma exporting the same disk,
#       one at a time, the same four workloads as vm-tcp; then perftest ib_read_bw / ib_write_bw (64 KiB
#       messages) for the raw link. bandwidth_vs_perftest = sanport's 128k read MiB/s / ib_write_bw (the target
#       RDMA-WRITEs read data to the host); write_bandwidth_vs_perftest = its 128k write MiB/s / ib_read_bw (the
#       target RDMA-READs write data). Needs root, QEMU, fio, nvme-cli and perftest.
#   bench/compare.sh connections [--seconds N] [--size 1G]
#       issue 11 item 4, no root: `sanport bench remote` 4k randread QD32 alone vs beside 4,096 idle connections and
#       256 hosts stalled mid-R2T (bench/idle-hosts.py) against one `sanport export --device ram:SIZE`, rounds
#       A B A B; the target's RSS per idle connection; that its timeouts shed every one of them (bench/connections.sh).
#
# Writes overwrite the scratch device (the image is created for the run). In "ratios" every workload has its
# own key (sanport / peer IOPS); the older summary keys (iops_vs_*, bandwidth_vs_*) stay.
set -euo pipefail
SANPORT_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$SANPORT_ROOT/scripts/lib.sh"

usage() { sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
scenario=${1:-}; [ -n "$scenario" ] || usage 2; shift
seconds=10; size=1G
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=$2; shift 2;;
        --size) size=$2; shift 2;;
        -h|--help) usage;;
        *) echo "compare.sh: unknown option $1" >&2; usage 2;;
    esac
done
say() { echo "compare.sh: $*" >&2; }

# The workloads, by name: fio's --rw, block size, queue depth. A scenario picks some by index.
W_NAMES=(randread_4k_qd32 randread_4k_qd1 seqread_128k randwrite_4k_qd32 seqwrite_128k)
W_RWS=(randread randread read randwrite write) W_BSS=(4k 4k 128k 4k 128k) W_QDS=(32 1 8 32 8)

# fio's terse output (v3): field 7 = read KiB/s, 8 = read IOPS; 48/49 the same for writes
fio_parse() { # rw <<<terse -> "iops mib_s"
    case $1 in
        *write) awk -F';' 'NF > 50 {printf "%s %.1f\n", $49, $48/1024; exit}';;
        *) awk -F';' 'NF > 50 {printf "%s %.1f\n", $8, $7/1024; exit}';;
    esac
}
fio_run() { # name rw bs qd device -> "iops mib_s"
    local out
    out=$(fio --name="$1" --filename="$5" --rw="$2" --bs="$3" --iodepth="$4" --ioengine=io_uring --direct=1 \
              --fixedbufs=1 --registerfiles=1 --numjobs=1 --time_based --runtime="$seconds" --ramp_time=1 \
              --norandommap --randrepeat=0 --minimal) || { say "fio failed: $out"; return 1; }
    fio_parse "$2" <<<"$out"
}

# JSON members for the workloads at the given indexes: "name":{"iops":..,"mib_s":..} from an array of
# "IOPS MiB/s", and "name":ratio from two of them
json_results() { # ARRAY INDEX...
    local -n r=$1; shift
    local i out=""
    for i in "$@"; do out+="\"${W_NAMES[$i]}\":{\"iops\":${r[$i]%% *},\"mib_s\":${r[$i]##* }},"; done
    echo "${out%,}"
}
json_ratios() { # OURS PEER INDEX...
    local -n a=$1 b=$2; shift 2
    local i out=""
    for i in "$@"; do out+="\"${W_NAMES[$i]}\":$(ratio "${a[$i]%% *}" "${b[$i]%% *}"),"; done
    echo "${out%,}"
}

sanport_run() { # rw bs qd device -> "iops mib_s"
    local out
    out=$("$SANPORT_ROOT/sanport" bench local --device "$4" --rw "$1" --bs "$2" --qd "$3" --seconds "$seconds" \
              --ramp 1 --json | tail -1)
    sed -E 's/.*"iops":([0-9.]+).*"mib_s":([0-9.]+).*/\1 \2/' <<<"$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "null" }'; }

local_scenario() {
    sanport_ensure_packages --who compare.sh bench || exit 1
    sanport_find_jdk && sanport_build_if_needed
    make_loop_device
    say "device: $dev over $img; $seconds s per run after 1 s ramp; machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
    local -a ours=() peer=()
    local i
    for i in 0 1 2 3 4; do
        say "${W_NAMES[$i]}: fio ..."
        peer[$i]=$(fio_run "${W_NAMES[$i]}" "${W_RWS[$i]}" "${W_BSS[$i]}" "${W_QDS[$i]}" "$dev")
        say "${W_NAMES[$i]}: fio ${peer[$i]} (IOPS MiB/s); sanport ..."
        ours[$i]=$(sanport_run "${W_RWS[$i]}" "${W_BSS[$i]}" "${W_QDS[$i]}" "$dev")
        say "${W_NAMES[$i]}: sanport ${ours[$i]} (IOPS MiB/s); ratio $(ratio "${ours[$i]%% *}" "${peer[$i]%% *}")"
    done
    printf '{"scenario":"local","date":"%s","machine":"%s cores, kernel %s, load %s","device":"loop over /dev/shm, %s","seconds":%s,"sanport":{%s},"peer":{"name":"fio %s io_uring fixedbufs registerfiles",%s},"ratios":{%s}}\n' \
        "$(date -u +%FT%RZ)" "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1 /proc/loadavg)" "$size" "$seconds" \
        "$(json_results ours 0 1 2 3 4)" "$(fio --version)" "$(json_results peer 0 1 2 3 4)" "$(json_ratios ours peer 0 1 2 3 4)"
}

# A loop device over a file of random data in /dev/shm, removed on exit; sets $dev.
make_loop_device() {
    [ "$(id -u)" = 0 ] || { say "needs root for losetup"; exit 1; }
    img=$(mktemp /dev/shm/sanport-compare.XXXXXX.img)
    dev=""
    trap 'cleanup' EXIT
    say "filling a $size image in /dev/shm with random data (holes would read faster than data)"
    head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$img"
    dev=$(losetup --find --show "$img")
}
cleanup_pids=()
cleanup() {
    local p
    set +e # a process that already ended must not stop the rest of the cleanup
    for p in "${cleanup_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    if [ -n "${dev:-}" ]; then losetup -d "$dev" 2>/dev/null; fi
    rm -f "${img:-}"
}

wait_port() { # port: until something listens on 127.0.0.1:port (10 s)
    local i
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    say "nothing listens on 127.0.0.1:$1"; return 1
}

tcp_scenario() {
    sanport_ensure_packages --who compare.sh bench || exit 1
    sanport_find_jdk && sanport_build_if_needed
    make_loop_device
    say "device: $dev over $img; $seconds s per run after 1 s ramp; machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"

    say "iperf3: one stream over loopback"
    iperf3 -s -p 15201 >/dev/null 2>&1 & cleanup_pids+=($!)
    wait_port 15201
    local iperf_mib
    iperf_mib=$(iperf3 -c 127.0.0.1 -p 15201 -t "$seconds" -J | awk -F'[:,]' '/"sum_received"/ {r=1} r && /"bits_per_second"/ && !f {printf "%.1f", $2/8/1048576; f = 1}')
    say "iperf3: $iperf_mib MiB/s"

    local -a w=(0 2 3 4) peer=() ours=()
    say "nbdkit file plugin on 127.0.0.1:10809"
    nbdkit --exit-with-parent -f -i 127.0.0.1 -p 10809 file "$dev" >/dev/null 2>&1 & cleanup_pids+=($!)
    wait_port 10809
    local i out
    for i in "${w[@]}"; do
        say "${W_NAMES[$i]}: fio nbd engine ..."
        out=$(fio --name="${W_NAMES[$i]}" --ioengine=nbd --uri=nbd://127.0.0.1:10809/ --rw="${W_RWS[$i]}" --bs="${W_BSS[$i]}" \
                  --iodepth="${W_QDS[$i]}" --numjobs=1 --time_based --runtime="$seconds" --ramp_time=1 --norandommap \
                  --randrepeat=0 --size="$size" --minimal) || { say "fio failed: $out"; exit 1; }
        peer[$i]=$(fio_parse "${W_RWS[$i]}" <<<"$out")
        say "${W_NAMES[$i]}: nbdkit+fio ${peer[$i]} (IOPS MiB/s)"
    done
    kill "${cleanup_pids[-1]}"

    local nqn=nqn.2026-11.io.sanport:compare
    say "sanport target exporting $dev on 127.0.0.1:14420"
    "$SANPORT_ROOT/sanport" export --device "$dev" --address 127.0.0.1 --port 14420 --nqn "$nqn" --allow-any-host \
        >/tmp/sanport-compare-target.log 2>&1 & cleanup_pids+=($!)
    wait_port 14420
    for i in "${w[@]}"; do
        say "${W_NAMES[$i]}: sanport client ..."
        out=$("$SANPORT_ROOT/sanport" bench remote --address 127.0.0.1 --port 14420 --nqn "$nqn" --queues 1 \
                  --rw "${W_RWS[$i]}" --bs "${W_BSS[$i]}" --qd "${W_QDS[$i]}" --seconds "$seconds" --ramp 1 --json | tail -1)
        ours[$i]=$(sed -E 's/.*"iops":([0-9.]+).*"mib_s":([0-9.]+).*/\1 \2/' <<<"$out")
        say "${W_NAMES[$i]}: sanport ${ours[$i]} (IOPS MiB/s); ratio $(ratio "${ours[$i]%% *}" "${peer[$i]%% *}")"
    done
    printf '{"scenario":"tcp","date":"%s","machine":"%s cores, kernel %s, load %s","device":"loop over /dev/shm, %s","seconds":%s,"sanport":{%s},"peer":{"name":"nbdkit %s file plugin + fio nbd engine",%s,"iperf3_mib_s":%s},"ratios":{%s,"iops_vs_nbdkit":%s,"bandwidth_vs_iperf3":%s,"write_bandwidth_vs_iperf3":%s}}\n' \
        "$(date -u +%FT%RZ)" "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1 /proc/loadavg)" "$size" "$seconds" \
        "$(json_results ours "${w[@]}")" "$(nbdkit --version | awk '{print $2}')" "$(json_results peer "${w[@]}")" "$iperf_mib" \
        "$(json_ratios ours peer "${w[@]}")" "$(ratio "${ours[0]%% *}" "${peer[0]%% *}")" \
        "$(ratio "${ours[2]##* }" "$iperf_mib")" "$(ratio "${ours[4]##* }" "$iperf_mib")"
}

# ---- vm-tcp: the Linux initiator against sanport and against nvmet-tcp, in one guest
# The host half of vm-tcp and vm-rdma: one guest (tests/vm/run.sh), the jars copied aside, an image of $size;
# the guest half is this script again ("$kind-guest"), whose last stdout line is the JSON result.
vm_scenario() { # vm_scenario KIND IMAGE(random|sparse) RUN.SH-OPTIONS...
    local kind=$1 image=$2; shift 2
    [ "$(id -u)" = 0 ] || { say "needs root (QEMU harness)"; exit 1; }
    local t
    sanport_ensure_packages --who compare.sh bench vm || exit 1
    sanport_find_jdk && sanport_build_if_needed
    "$SANPORT_ROOT/tests/vm/prepare.sh" >&2 || { say "tests/vm/prepare.sh failed"; exit 1; }
    local tmp rc
    tmp=$(mktemp -d "/tmp/sanport-compare-$kind.XXXXXX")
    vm_tmp=$tmp
    trap 'rm -rf "$vm_tmp"' EXIT
    cp -r "$SANPORT_LIB" "$tmp/lib"   # a rebuild on the host while the guest runs must not swap the jars
    if [ "$image" = random ]; then
        say "filling a $size image with random data (holes would read faster than data)"
        head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$tmp/disk.img"
    else
        truncate -s "$size" "$tmp/disk.img"   # sparse: the same holes for both targets; the transport is what differs
    fi
    say "booting the guest (tests/vm/run.sh $* --nvme, a $image $size image); $seconds s per fio run after 1 s ramp"
    set +e
    "$SANPORT_ROOT/tests/vm/run.sh" "$@" --nvme "$tmp/disk.img" --timeout $((300 + 12 * seconds)) \
        --env "SANPORT_COMPARE_LIB=$tmp/lib" --env "SANPORT_COMPARE_JAVA=$JAVA_HOME" \
        --env "SANPORT_COMPARE_HOST=$(nproc) cores, kernel $(uname -r)" \
        -- "$SANPORT_ROOT/bench/compare.sh $kind-guest --seconds $seconds --size $size" >"$tmp/out" \
        2> >(grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' >&2)
    rc=$?
    set -e
    wait
    grep -v '^{' "$tmp/out" >&2 || true
    [ "$rc" = 0 ] || { say "the guest run failed (tests/vm/run.sh exit $rc)"; exit 1; }
    grep "^{\"scenario\":\"$kind\"" "$tmp/out" | tail -1 | grep . || { say "the guest printed no result"; exit 1; }
}

# The guest half shared by vm-tcp and vm-rdma: the kernel initiator + fio against (a) sanport, then (b) the
# kernel's nvmet, both exporting /dev/nvme0n1 over $trtype on 169.254.77.1:4420, one at a time. Fills the
# arrays ours and peer with "IOPS MiB/s" per workload; sets t0.
vm_guest_compare() { # vm_guest_compare TRTYPE WARMUP(0|1)
    local trtype=$1 warmup=$2
    [ "${SANPORT_VM_GUEST:-}" = 1 ] || { say "$scenario runs inside tests/vm/run.sh only"; exit 2; }
    addr=169.254.77.1 back=/dev/nvme0n1 log=/tmp/vm-$trtype-target.log
    nqn_s=nqn.2026-11.io.sanport:vm-$trtype nqn_k=nqn.2026-11.io.sanport:vm-$trtype-nvmet
    w=(0 2 3 4)   # randread_4k_qd32 seqread_128k randwrite_4k_qd32 seqwrite_128k
    ours=() peer=() spid="" cfs=/sys/kernel/config/nvmet dev=""

    vm_connect() {   # vm_connect NQN: sets dev to the namespace's block device (no udev: sysfs + mknod)
        local b n out
        out=$(nvme connect -t "$trtype" -a "$addr" -s 4420 -n "$1" 2>&1) || { say "nvme connect: $out"; return 1; }
        for n in $(seq 300); do
            for b in /sys/block/nvme*n*; do   # the namespace whose controller's subsystem has NQN
                [[ "${b##*/}" =~ ^nvme[0-9]+n[0-9]+$ ]] && [ -r "$b/dev" ] || continue
                [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$1" ] || continue
                dev=/dev/${b##*/}
                [ -b "$dev" ] || { IFS=: read -r ma mi <"$b/dev"; mknod "$dev" b "$ma" "$mi"; }
                blockdev --getsize64 "$dev" >/dev/null 2>&1 && return 0
            done
            sleep 0.1
        done
        return 1
    }
    vm_disconnect() { # vm_disconnect NQN
        nvme disconnect -n "$1" >/dev/null
        local n; for n in $(seq 100); do [ -e "/sys/block/${dev#/dev/}" ] || break; sleep 0.1; done
        [ -e "/sys/block/${dev#/dev/}" ] || rm -f "$dev"
    }
    vm_fio() {   # vm_fio ours|peer: runs the workloads on $dev into that array
        local -n into=$1
        local i
        if [ "$warmup" = 1 ]; then
            # the same untimed warm-up for both targets: the guest's C1-only JIT is still compiling sanport's I/O path
            say "$1: 3 s warm-up (4k randread QD32, not counted)"
            fio --name=warmup --filename="$dev" --rw=randread --bs=4k --iodepth=32 --ioengine=io_uring --direct=1 \
                --time_based --runtime=3 --norandommap --randrepeat=0 --minimal >/dev/null || { say "warm-up fio failed"; return 1; }
        fi
        for i in "${w[@]}"; do
            say "$1: ${W_NAMES[$i]} on $dev (nvme-$trtype) ..."
            into[$i]=$(fio_run "vm-$trtype-${W_NAMES[$i]}" "${W_RWS[$i]}" "${W_BSS[$i]}" "${W_QDS[$i]}" "$dev")
            say "$1: ${W_NAMES[$i]}: ${into[$i]} (IOPS MiB/s)"
        done
    }
    vm_kernel_log() { # the initiator's timeouts and resets since the last call: a stall shows as low IOPS only
        local lines
        lines=$(dmesg -c 2>/dev/null | grep -Ei 'nvme.*(timeout|reset|reconnect|error)' | tail -5) || true
        [ -z "$lines" ] || say "$1: the kernel initiator logged: $lines"
    }
    vm_guest_cleanup() {
        nvme disconnect -n "$nqn_s" >/dev/null 2>&1; nvme disconnect -n "$nqn_k" >/dev/null 2>&1
        [ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
        rm -f "$cfs/ports/1/subsystems/$nqn_k" 2>/dev/null; rmdir "$cfs/ports/1" 2>/dev/null
        echo 0 >"$cfs/subsystems/$nqn_k/namespaces/1/enable" 2>/dev/null
        rmdir "$cfs/subsystems/$nqn_k/namespaces/1" "$cfs/subsystems/$nqn_k" 2>/dev/null
        true
    }
    trap vm_guest_cleanup EXIT
    t0=$SECONDS
    dmesg -c >/dev/null 2>&1

    say "(a) sanport export --transport $trtype $back on $addr:4420 (JVM C1-only under TCG)"
    "$SANPORT_COMPARE_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_COMPARE_LIB/*" io.sanport.cli.Main export \
        --device "$back" --transport "$trtype" --address "$addr" --port 4420 --nqn "$nqn_s" --allow-any-host \
        --discovery-port 0 >"$log" 2>&1 &
    spid=$!
    local i
    for i in $(seq 1200); do
        grep -q '^serving' "$log" && break
        kill -0 "$spid" 2>/dev/null || { cat "$log" >&2; say "sanport exited"; exit 1; }
        sleep 0.1
    done
    grep -q '^serving' "$log" && grep -q "listening: $trtype $addr:4420" "$log" \
        || { cat "$log" >&2; say "sanport does not serve $trtype $addr:4420"; exit 1; }
    say "sanport serves after $((SECONDS - t0)) s; nvme connect -t $trtype"
    vm_connect "$nqn_s" || { tail -20 "$log" >&2; say "nvme connect to sanport failed"; exit 1; }
    vm_fio ours
    vm_kernel_log sanport
    vm_disconnect "$nqn_s"
    kill -TERM "$spid"; wait "$spid" || say "sanport exited $? on SIGTERM"
    spid=""

    say "(b) kernel nvmet-$trtype (configfs) exporting $back on $addr:4420"
    mkdir "$cfs/subsystems/$nqn_k"
    echo 1 >"$cfs/subsystems/$nqn_k/attr_allow_any_host"
    mkdir "$cfs/subsystems/$nqn_k/namespaces/1"
    echo -n "$back" >"$cfs/subsystems/$nqn_k/namespaces/1/device_path"
    echo 1 >"$cfs/subsystems/$nqn_k/namespaces/1/enable"
    mkdir "$cfs/ports/1"
    echo "$trtype" >"$cfs/ports/1/addr_trtype"; echo ipv4 >"$cfs/ports/1/addr_adrfam"
    echo "$addr" >"$cfs/ports/1/addr_traddr"; echo 4420 >"$cfs/ports/1/addr_trsvcid"
    ln -s "$cfs/subsystems/$nqn_k" "$cfs/ports/1/subsystems/$nqn_k"
    vm_connect "$nqn_k" || { say "nvme connect to nvmet-$trtype failed"; exit 1; }
    vm_fio peer
    vm_kernel_log nvmet
    vm_disconnect "$nqn_k"
    vm_guest_cleanup; trap - EXIT
}

vm_machine() { # the JSON "machine" text of a guest run
    echo "QEMU $(grep -qw kvm-clock /sys/devices/system/clocksource/clocksource0/available_clocksource && echo KVM || echo TCG) guest, $(nproc) vCPUs, kernel $(uname -r); host ${SANPORT_COMPARE_HOST:-?}"
}

vm_tcp_guest() {   # the guest half of vm-tcp (SANPORT_VM_GUEST=1)
    ip link add sp0 type dummy && ip addr add "169.254.77.1/16" dev sp0 && ip link set sp0 up
    vm_guest_compare tcp 0
    local iops_ratio bw_ratio
    iops_ratio=$(ratio "${ours[0]%% *}" "${peer[0]%% *}")
    bw_ratio=$(ratio "${ours[2]##* }" "${peer[2]##* }")
    say "sanport / nvmet: $(json_ratios ours peer "${w[@]}"); guest time $((SECONDS - t0)) s"
    printf '{"scenario":"vm-tcp","date":"%s","machine":"%s","device":"emulated NVMe over a %s image of random data","seconds":%s,"initiator":"Linux nvme-tcp + fio %s io_uring direct=1, 169.254.77.1:4420 in the guest","sanport":{%s},"peer":{"name":"Linux %s nvmet-tcp (bdev backend)",%s},"ratios":{%s,"iops_vs_nvmet":%s,"bandwidth_vs_nvmet":%s}}\n' \
        "$(date -u +%FT%RZ)" "$(vm_machine)" "$size" "$seconds" "$(fio --version)" \
        "$(json_results ours "${w[@]}")" "$(uname -r)" "$(json_results peer "${w[@]}")" \
        "$(json_ratios ours peer "${w[@]}")" "$iops_ratio" "$bw_ratio"
}

vm_rdma_guest() {   # the guest half of vm-rdma (SANPORT_VM_GUEST=1, run.sh --rdma --nvme)
    [ -d /sys/class/infiniband/rxe0 ] || { say "no rxe0: run the guest with tests/vm/run.sh --rdma"; exit 1; }
    local pt_secs mtu
    pt_secs=$(( seconds < 5 ? (seconds < 2 ? 2 : seconds) : 5 ))
    mtu=$(ibv_devinfo -d rxe0 2>/dev/null | awk '/active_mtu/ && !f {print $2; f = 1}')
    vm_guest_compare rdma 1

    perftest_bw() {   # perftest_bw ib_read_bw|ib_write_bw port -> MiB/s average (64 KiB messages, rxe0 GID 1)
        local srv out n
        "$1" -d rxe0 -x 1 -F -s 65536 -D "$pt_secs" -p "$2" >/tmp/vm-rdma-$1-server.log 2>&1 &
        srv=$!
        for n in $(seq 100); do ss -Hltn "sport = :$2" | grep -q . && break; sleep 0.1; done
        out=$("$1" -d rxe0 -x 1 -F -s 65536 -D "$pt_secs" -p "$2" "$addr" 2>&1) || { say "$1 failed: $(tail -3 <<<"$out")"; }
        wait "$srv" 2>/dev/null || true
        awk '$1 == 65536 && NF >= 5 { v = $4 } END { if (v != "") print v }' <<<"$out"
    }
    say "(c) perftest on rxe0 (GID 1, RoCE MTU ${mtu:-?}): 64 KiB messages, $pt_secs s each"
    local rbw wbw
    rbw=$(perftest_bw ib_read_bw 18515); say "ib_read_bw: ${rbw:-failed} MiB/s"
    wbw=$(perftest_bw ib_write_bw 18516); say "ib_write_bw: ${wbw:-failed} MiB/s"

    local iops_ratio bw_ratio pt_ratio wpt_ratio
    iops_ratio=$(ratio "${ours[0]%% *}" "${peer[0]%% *}")
    bw_ratio=$(ratio "${ours[2]##* }" "${peer[2]##* }")
    pt_ratio=$(ratio "${ours[2]##* }" "${wbw:-0}")
    wpt_ratio=$(ratio "${ours[4]##* }" "${rbw:-0}")
    say "sanport / nvmet-rdma: $(json_ratios ours peer "${w[@]}"); sanport 128k read / ib_write_bw $pt_ratio, 128k write / ib_read_bw $wpt_ratio; guest time $((SECONDS - t0)) s"
    printf '{"scenario":"vm-rdma","date":"%s","machine":"%s","device":"emulated NVMe over a %s image of random data","link":"SoftRoCE rxe0 on a dummy netdev, RoCE MTU %s, initiator and target in the same guest","seconds":%s,"initiator":"Linux nvme-rdma + fio %s io_uring direct=1, 169.254.77.1:4420","sanport":{%s},"peer":{"nvmet_rdma":{"name":"Linux %s nvmet-rdma (bdev backend)",%s},"perftest":{"version":"%s","msg_bytes":65536,"seconds":%s,"ib_read_bw_mib_s":%s,"ib_write_bw_mib_s":%s}},"ratios":{%s,"iops_vs_nvmet":%s,"bandwidth_vs_nvmet":%s,"bandwidth_vs_perftest":%s,"write_bandwidth_vs_perftest":%s}}\n' \
        "$(date -u +%FT%RZ)" "$(vm_machine)" "$size" "${mtu:-?}" "$seconds" "$(fio --version)" \
        "$(json_results ours "${w[@]}")" "$(uname -r)" "$(json_results peer "${w[@]}")" \
        "$(dpkg-query -W -f '${Version}' perftest 2>/dev/null || echo ?)" "$pt_secs" "${rbw:-null}" "${wbw:-null}" \
        "$(json_ratios ours peer "${w[@]}")" "$iops_ratio" "$bw_ratio" "$pt_ratio" "$wpt_ratio"
}

case $scenario in
    local) local_scenario;;
    tcp) tcp_scenario;;
    vm-tcp) vm_scenario vm-tcp random;;
    vm-tcp-guest) vm_tcp_guest;;
    vm-rdma) vm_scenario vm-rdma random --rdma;;
    vm-rdma-guest) vm_rdma_guest;;
    connections) . "$SANPORT_ROOT/bench/connections.sh"; connections_scenario;;
    *) echo "compare.sh: unknown scenario '$scenario' (known: local, tcp, vm-tcp, vm-rdma, connections)" >&2; exit 2;;
esac
