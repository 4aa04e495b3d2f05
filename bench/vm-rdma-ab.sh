#!/usr/bin/env bash
# A/B of sanport builds or settings over NVMe/RDMA in ONE guest boot (issue 16 item 4), plus a profile.
#
#   bench/vm-rdma-ab.sh [--rounds 4] [--seconds 5] [--workloads randread_4k_qd32,seqwrite_128k] \
#       [--profile] NAME=LIBDIR[:JVM_FLAGS] ...
#
# Each variant NAME is a sanport JVM (the jars of LIBDIR, extra JVM flags, comma separated) exporting the guest's
# /dev/nvme0n1 (--shared-device) on its own RDMA port; nvmet-rdma exports it too. Every round runs each workload
# on nvmet, then on each variant in turn, the order of the variants rotated every round, so all of them meet the
# same neighbours. Per run: IOPS, the JVM's CPU seconds per million I/Os and its per-thread CPU. --profile then
# records, on the first variant: JFR (profile settings), strace -c syscall counts, and perf -a (also on nvmet).
# Output (the rounds, a summary with medians and min-max of per-round ratios to the first variant) goes to stdout
# and to $OUT (default /tmp/rdmaw-ab). Needs root, QEMU (tests/vm/prepare.sh), fio, nvme-cli.
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$ROOT/scripts/lib.sh"
rounds=4 seconds=5 workloads=randread_4k_qd32,seqwrite_128k profile=0 variants=()
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2;;
        --seconds) seconds=$2; shift 2;;
        --workloads) workloads=$2; shift 2;;
        --profile) profile=1; shift;;
        *=*) variants+=("$1"); shift;;
        *) echo "vm-rdma-ab.sh: unknown argument $1" >&2; exit 2;;
    esac
done
OUT=${OUT:-/tmp/rdmaw-ab}
say() { echo "vm-rdma-ab: $*" | tee -a "$OUT/log" >&2; }

if [ "${SANPORT_VM_GUEST:-}" != 1 ]; then   # the host half: boot one guest that runs this script again
    [ ${#variants[@]} -ge 1 ] || { echo "vm-rdma-ab.sh: name at least one variant NAME=LIBDIR[:FLAGS]" >&2; exit 2; }
    sanport_find_jdk
    sanport_ensure_packages --who vm-rdma-ab.sh bench vm || exit 1
    if [ $profile = 1 ]; then   # run in the guest from the host's root (9p): not in the lists, only for --profile
        for t in strace perf; do
            command -v $t >/dev/null || { echo "vm-rdma-ab.sh: --profile needs $t (apt-get install strace linux-perf)" >&2; exit 1; }
        done
    fi
    "$ROOT/tests/vm/prepare.sh" >&2
    mkdir -p "$OUT"; : >"$OUT/log"
    head -c 1G /dev/urandom >"$OUT/disk.img"
    timeout=$(( 900 + ${#variants[@]} * 120 + rounds * (${#variants[@]} + 1) * 2 * (seconds + 10) + profile * 600 ))
    set +e
    "$ROOT/tests/vm/run.sh" --rdma --nvme "$OUT/disk.img" --timeout "$timeout" --rw "$OUT" \
        --env "JAVA_HOME=$JAVA_HOME" --env "OUT=$OUT" \
        -- "$ROOT/bench/vm-rdma-ab.sh --rounds $rounds --seconds $seconds --workloads $workloads $([ $profile = 1 ] && echo --profile) ${variants[*]}"
    rc=$?
    rm -f "$OUT/disk.img"
    exit $rc
fi

# ---- the guest half
addr=169.254.77.1 back=/dev/nvme0n1 cfs=/sys/kernel/config/nvmet nqn_k=nqn.2026-11.io.sanport:ab-nvmet
declare -A RW=([randread_4k_qd32]=randread [seqwrite_128k]=write [seqread_128k]=read [randwrite_4k_qd32]=randwrite)
declare -A BS=([randread_4k_qd32]=4k [seqwrite_128k]=128k [seqread_128k]=128k [randwrite_4k_qd32]=4k)
declare -A QD=([randread_4k_qd32]=32 [seqwrite_128k]=8 [seqread_128k]=8 [randwrite_4k_qd32]=32)
IFS=, read -ra W <<<"$workloads"
names=() pids=() devs=()
declare -A IOPS CPU
cleanup() {
    local n; for n in "${names[@]}" nvmet; do nvme disconnect -n "nqn.2026-11.io.sanport:ab-$n" >/dev/null 2>&1 || true; done
    for n in "${pids[@]}"; do kill -TERM "$n" 2>/dev/null || true; done
    rm -f "$cfs/ports/1/subsystems/$nqn_k" 2>/dev/null || true; rmdir "$cfs/ports/1" 2>/dev/null || true
    echo 0 >"$cfs/subsystems/$nqn_k/namespaces/1/enable" 2>/dev/null || true
    rmdir "$cfs/subsystems/$nqn_k/namespaces/1" "$cfs/subsystems/$nqn_k" 2>/dev/null || true
}
trap cleanup EXIT
connect() { # NQN PORT -> prints the namespace's block device
    nvme connect -t rdma -a "$addr" -s "$2" -n "$1" >/dev/null || return 1
    local b n
    for n in $(seq 300); do
        for b in /sys/block/nvme*n*; do
            [[ "${b##*/}" =~ ^nvme[0-9]+n[0-9]+$ ]] && [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$1" ] || continue
            [ -b "/dev/${b##*/}" ] || { IFS=: read -r ma mi <"$b/dev"; mknod "/dev/${b##*/}" b "$ma" "$mi"; }
            blockdev --getsize64 "/dev/${b##*/}" >/dev/null 2>&1 && { echo "/dev/${b##*/}"; return 0; }
        done
        sleep 0.1
    done
    return 1
}
ticks() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }; s=${s##*) }; local f=($s); echo $(( f[11] + f[12] )); }
thread_ticks() { # PID -> "name ticks" per thread (names summed)
    local t s f
    for t in /proc/"$1"/task/*; do
        s=$(cat "$t/stat" 2>/dev/null) || continue
        local comm=${s#*(}; comm=${comm%%)*}; s=${s##*) }; f=($s)
        echo "${comm// /_} $(( f[11] + f[12] ))"
    done | awk '{ gsub(/-[0-9]+$/, "", $1); gsub(/[0-9]+$/, "", $1); t[$1] += $2 } END { for (k in t) print k, t[k] }'
}
fio_iops() { # WORKLOAD DEV -> IOPS
    fio --name="$1" --filename="$2" --rw="${RW[$1]}" --bs="${BS[$1]}" --iodepth="${QD[$1]}" --ioengine=io_uring --direct=1 \
        --fixedbufs=1 --registerfiles=1 --numjobs=1 --time_based --runtime="$seconds" --ramp_time=1 \
        --norandommap --randrepeat=0 --minimal | awk -F';' '{ r = $8 + 0; w = $49 + 0; print r + w }'
}
per_mio() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v iops="$2" -v s="$3" 'BEGIN { n = iops * s; printf "%.1f", (n > 0 ? t / hz * 1e6 / n : -1) }'; }

t0=$SECONDS
dmesg -c >/dev/null 2>&1 || true
port=4430
for v in "${variants[@]}"; do
    name=${v%%=*} spec=${v#*=} lib=${spec%%:*} flags=""
    [ "$spec" = "$lib" ] || flags=${spec#*:}
    IFS=, read -ra fl <<<"$flags"
    "$JAVA_HOME/bin/java" "${sanport_java_flags[@]}" -Xmx256m "${fl[@]}" -cp "$lib/*" io.sanport.cli.Main export --device "$back" \
        --transport rdma --address "$addr" --port "$port" --nqn "nqn.2026-11.io.sanport:ab-$name" --discovery-port 0 \
        --allow-any-host --shared-device >"$OUT/$name.log" 2>&1 &
    names+=("$name"); pids+=($!); ports+=("$port")
    say "variant $name: $lib flags [${fl[*]}] port $port pid $!"
    port=$((port + 1))
done
for i in "${!names[@]}"; do
    for n in $(seq 1800); do grep -q '^serving' "$OUT/${names[$i]}.log" && break; kill -0 "${pids[$i]}" || { cat "$OUT/${names[$i]}.log"; exit 1; }; sleep 0.1; done
    devs+=("$(connect "nqn.2026-11.io.sanport:ab-${names[$i]}" "${ports[$i]}")") || { say "connect ${names[$i]} failed"; exit 1; }
done
mkdir "$cfs/subsystems/$nqn_k"; echo 1 >"$cfs/subsystems/$nqn_k/attr_allow_any_host"
mkdir "$cfs/subsystems/$nqn_k/namespaces/1"; echo -n "$back" >"$cfs/subsystems/$nqn_k/namespaces/1/device_path"
echo 1 >"$cfs/subsystems/$nqn_k/namespaces/1/enable"
mkdir "$cfs/ports/1"; echo rdma >"$cfs/ports/1/addr_trtype"; echo ipv4 >"$cfs/ports/1/addr_adrfam"
echo "$addr" >"$cfs/ports/1/addr_traddr"; echo 4429 >"$cfs/ports/1/addr_trsvcid"
ln -s "$cfs/subsystems/$nqn_k" "$cfs/ports/1/subsystems/$nqn_k"
dev_k=$(connect "$nqn_k" 4429) || { say "connect nvmet failed"; exit 1; }
say "up after $((SECONDS - t0)) s: ${names[*]} on ${devs[*]}, nvmet on $dev_k; warm-up"
for d in "$dev_k" "${devs[@]}"; do
    fio --name=warmup --filename="$d" --rw=randread --bs=4k --iodepth=32 --ioengine=io_uring --direct=1 --time_based \
        --runtime=3 --norandommap --randrepeat=0 --minimal >/dev/null
    fio --name=warmup --filename="$d" --rw=write --bs=128k --iodepth=8 --ioengine=io_uring --direct=1 --time_based \
        --runtime=2 --minimal >/dev/null
done
nv=${#names[@]}
for r in $(seq "$rounds"); do
    for w in "${W[@]}"; do
        IOPS[nvmet,$w,$r]=$(fio_iops "$w" "$dev_k")
        line="round $r $w: nvmet ${IOPS[nvmet,$w,$r]}"
        for k in $(seq 0 $((nv - 1))); do
            i=$(( (k + r - 1) % nv ))   # rotate the order each round
            n=${names[$i]} p=${pids[$i]}
            thread_ticks "$p" >"$OUT/tt0"; c0=$(ticks "$p")
            IOPS[$n,$w,$r]=$(fio_iops "$w" "${devs[$i]}")
            c1=$(ticks "$p"); thread_ticks "$p" >"$OUT/tt1"
            CPU[$n,$w,$r]=$(per_mio $((c1 - c0)) "${IOPS[$n,$w,$r]}" $((seconds + 1)))
            threads=$(awk 'NR == FNR { b[$1] = $2; next } $2 - b[$1] > 0 { printf "%s=%d ", $1, $2 - b[$1] }' "$OUT/tt0" "$OUT/tt1")
            line+=", $n ${IOPS[$n,$w,$r]} (${CPU[$n,$w,$r]} s/Mio; ticks $threads)"
        done
        say "$line"
    done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f (%.3f-%.3f)", m, v[1], v[NR] }'; }
for w in "${W[@]}"; do
    for n in "${names[@]}"; do
        rv=() rk=() cp=() io=()
        for r in $(seq "$rounds"); do
            rv+=("$(ratio "${IOPS[$n,$w,$r]}" "${IOPS[${names[0]},$w,$r]}")"); rk+=("$(ratio "${IOPS[$n,$w,$r]}" "${IOPS[nvmet,$w,$r]}")")
            cp+=("${CPU[$n,$w,$r]}"); io+=("${IOPS[$n,$w,$r]}")
        done
        say "SUMMARY $w $n: IOPS ${io[*]}; vs ${names[0]} $(stats "${rv[@]}"); vs nvmet $(stats "${rk[@]}"); CPU s/Mio $(stats "${cp[@]}")"
    done
done
say "rounds done after $((SECONDS - t0)) s"

if [ "$profile" = 1 ]; then
    p=${pids[0]} d=${devs[0]} n=${names[0]}
    cp /proc/kallsyms "$OUT/kallsyms"
    for w in "${W[@]}"; do
        "$JAVA_HOME/bin/jcmd" "$p" JFR.start name=ab settings=profile filename="$OUT/$n-$w.jfr" >/dev/null 2>&1 || say "JFR.start failed"
        sleep 2
        say "profile $w JFR: $n $(fio_iops "$w" "$d") IOPS"
        "$JAVA_HOME/bin/jcmd" "$p" JFR.stop name=ab >/dev/null 2>&1 || say "JFR.stop failed"
        timeout $((seconds + 4)) strace -c -f -p "$p" -o "$OUT/$n-$w.strace" & st=$!
        sleep 1
        say "profile $w strace: $n $(fio_iops "$w" "$d") IOPS"
        wait $st || true
        perf record -a -g -F 499 -o "$OUT/perf-$n-$w.data" -- sleep $((seconds + 1)) >/dev/null 2>&1 & pp=$!
        say "profile $w perf: $n $(fio_iops "$w" "$d") IOPS"
        wait $pp || true
        perf record -a -g -F 499 -o "$OUT/perf-nvmet-$w.data" -- sleep $((seconds + 1)) >/dev/null 2>&1 & pp=$!
        say "profile $w perf: nvmet $(fio_iops "$w" "$dev_k") IOPS"
        wait $pp || true
    done
    cat /proc/$p/status | grep -E 'ctxt' >"$OUT/$n-ctxt" || true
fi
say "guest time $((SECONDS - t0)) s"
