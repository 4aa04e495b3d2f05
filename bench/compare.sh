#!/usr/bin/env bash
# Side by side benchmarks: sanport and a peer on the same device, same block size and queue depth, one after
# the other in one run. Prints progress; the last line is one JSON object with the ratios (sanport / peer).
#
#   bench/compare.sh local [--seconds N] [--size 1G]
#       fio (io_uring, direct, fixedbufs, registerfiles) vs `sanport bench local`, on a loop device over a file
#       in /dev/shm that it creates and removes: 4k randread QD32, 4k randread QD1, 128k sequential read QD8.
#       Needs root (losetup) and fio.
#   bench/compare.sh tcp [--seconds N] [--size 1G]
#       on the same kind of loop device: nbdkit (file plugin) + fio's nbd engine vs sanport's target + sanport's
#       Java client over NVMe/TCP on 127.0.0.1, 4k randread QD32 and 128k sequential read QD8; plus iperf3 on
#       loopback for the raw TCP bandwidth. Needs root, fio, nbdkit and iperf3.
set -euo pipefail
SANPORT_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$SANPORT_ROOT/scripts/lib.sh"

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
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

# fio's terse output (v3): field 7 = read KiB/s, 8 = read IOPS; 48/49 the same for writes
fio_run() { # name rw bs qd device -> "iops mib_s"
    local out
    out=$(fio --name="$1" --filename="$5" --rw="$2" --bs="$3" --iodepth="$4" --ioengine=io_uring --direct=1 \
              --fixedbufs=1 --registerfiles=1 --numjobs=1 --time_based --runtime="$seconds" --ramp_time=1 \
              --norandommap --randrepeat=0 --minimal) || { say "fio failed: $out"; return 1; }
    awk -F';' '{printf "%s %.1f\n", $8, $7/1024}' <<<"$out"
}

sanport_run() { # rw bs qd device -> "iops mib_s"
    local out
    out=$("$SANPORT_ROOT/sanport" bench local --device "$4" --rw "$1" --bs "$2" --qd "$3" --seconds "$seconds" \
              --ramp 1 --json | tail -1)
    sed -E 's/.*"iops":([0-9.]+).*"mib_s":([0-9.]+).*/\1 \2/' <<<"$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "null" }'; }

local_scenario() {
    command -v fio >/dev/null || { say "needs fio (apt-get install fio)"; exit 1; }
    sanport_find_jdk && sanport_build_if_needed
    make_loop_device
    say "device: $dev over $img; $seconds s per run after 1 s ramp; machine: $(nproc) cores, $(uname -r)"
    local -a names=(randread_4k_qd32 randread_4k_qd1 seqread_128k) rws=(randread randread read) bss=(4k 4k 128k) qds=(32 1 8)
    local json_s="" json_p="" json_r="" i s p
    for i in 0 1 2; do
        say "${names[$i]}: fio ..."
        p=$(fio_run "${names[$i]}" "${rws[$i]}" "${bss[$i]}" "${qds[$i]}" "$dev")
        say "${names[$i]}: fio $p (IOPS MiB/s); sanport ..."
        s=$(sanport_run "${rws[$i]}" "${bss[$i]}" "${qds[$i]}" "$dev")
        say "${names[$i]}: sanport $s (IOPS MiB/s); ratio $(ratio "${s%% *}" "${p%% *}")"
        json_s+="\"${names[$i]}\":{\"iops\":${s%% *},\"mib_s\":${s##* }},"
        json_p+="\"${names[$i]}\":{\"iops\":${p%% *},\"mib_s\":${p##* }},"
        json_r+="\"${names[$i]}\":$(ratio "${s%% *}" "${p%% *}"),"
    done
    printf '{"scenario":"local","date":"%s","machine":"%s cores, kernel %s","device":"loop over /dev/shm, %s","seconds":%s,"sanport":{%s},"peer":{"name":"fio %s io_uring fixedbufs registerfiles",%s},"ratios":{%s}}\n' \
        "$(date -u +%F)" "$(nproc)" "$(uname -r)" "$size" "$seconds" "${json_s%,}" "$(fio --version)" "${json_p%,}" "${json_r%,}"
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
    local t
    for t in fio nbdkit iperf3; do command -v $t >/dev/null || { say "needs $t (apt-get install $t)"; exit 1; }; done
    sanport_find_jdk && sanport_build_if_needed
    make_loop_device
    say "device: $dev over $img; $seconds s per run after 1 s ramp; machine: $(nproc) cores, $(uname -r)"

    say "iperf3: one stream over loopback"
    iperf3 -s -1 -p 15201 >/dev/null 2>&1 & cleanup_pids+=($!)
    wait_port 15201
    local iperf_mib
    iperf_mib=$(iperf3 -c 127.0.0.1 -p 15201 -t "$seconds" -J | awk -F'[:,]' '/"sum_received"/ {r=1} r && /"bits_per_second"/ {printf "%.1f", $2/8/1048576; exit}')
    say "iperf3: $iperf_mib MiB/s"

    local -a names=(randread_4k_qd32 seqread_128k) rws=(randread read) bss=(4k 128k) qds=(32 8)
    local -a peer=() ours=()
    say "nbdkit file plugin on 127.0.0.1:10809"
    nbdkit --exit-with-parent -f -i 127.0.0.1 -p 10809 file "$dev" >/dev/null 2>&1 & cleanup_pids+=($!)
    wait_port 10809
    local i out
    for i in 0 1; do
        say "${names[$i]}: fio nbd engine ..."
        out=$(fio --name="${names[$i]}" --ioengine=nbd --uri=nbd://127.0.0.1:10809/ --rw="${rws[$i]}" --bs="${bss[$i]}" \
                  --iodepth="${qds[$i]}" --numjobs=1 --time_based --runtime="$seconds" --ramp_time=1 --norandommap \
                  --randrepeat=0 --size="$size" --minimal) || { say "fio failed: $out"; exit 1; }
        peer[$i]=$(awk -F';' '{printf "%s %.1f\n", $8, $7/1024}' <<<"$out")
        say "${names[$i]}: nbdkit+fio ${peer[$i]} (IOPS MiB/s)"
    done
    kill "${cleanup_pids[-1]}"

    local nqn=nqn.2026-11.io.sanport:compare
    say "sanport target exporting $dev on 127.0.0.1:14420"
    "$SANPORT_ROOT/sanport" export --device "$dev" --address 127.0.0.1 --port 14420 --nqn "$nqn" --allow-any-host \
        >/tmp/sanport-compare-target.log 2>&1 & cleanup_pids+=($!)
    wait_port 14420
    for i in 0 1; do
        say "${names[$i]}: sanport client ..."
        out=$("$SANPORT_ROOT/sanport" bench remote --address 127.0.0.1 --port 14420 --nqn "$nqn" --queues 1 \
                  --rw "${rws[$i]}" --bs "${bss[$i]}" --qd "${qds[$i]}" --seconds "$seconds" --ramp 1 --json | tail -1)
        ours[$i]=$(sed -E 's/.*"iops":([0-9.]+).*"mib_s":([0-9.]+).*/\1 \2/' <<<"$out")
        say "${names[$i]}: sanport ${ours[$i]} (IOPS MiB/s)"
    done
    local iops_ratio bw_ratio
    iops_ratio=$(ratio "${ours[0]%% *}" "${peer[0]%% *}")
    bw_ratio=$(ratio "${ours[1]##* }" "$iperf_mib")
    printf '{"scenario":"tcp","date":"%s","machine":"%s cores, kernel %s","device":"loop over /dev/shm, %s","seconds":%s,"sanport":{"randread_4k_qd32":{"iops":%s,"mib_s":%s},"seqread_128k":{"iops":%s,"mib_s":%s}},"peer":{"name":"nbdkit %s file plugin + fio nbd engine","randread_4k_qd32":{"iops":%s,"mib_s":%s},"seqread_128k":{"iops":%s,"mib_s":%s},"iperf3_mib_s":%s},"ratios":{"iops_vs_nbdkit":%s,"bandwidth_vs_iperf3":%s}}\n' \
        "$(date -u +%F)" "$(nproc)" "$(uname -r)" "$size" "$seconds" ${ours[0]} ${ours[1]} "$(nbdkit --version | awk '{print $2}')" \
        ${peer[0]} ${peer[1]} "$iperf_mib" "$iops_ratio" "$bw_ratio"
}

case $scenario in
    local) local_scenario;;
    tcp) tcp_scenario;;
    *) echo "compare.sh: unknown scenario '$scenario' (known: local, tcp)" >&2; exit 2;;
esac
