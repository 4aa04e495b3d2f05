#!/usr/bin/env bash
# Side by side benchmarks: sanport and a peer on the same device, same block size and queue depth, taking turns
# in one run: every round runs each workload on the peer, then on sanport (A B A B A B), so both halves of a
# ratio meet the same neighbours' load. Prints progress; the last line is one JSON object: per workload the
# median and min-max of the per-round ratios (sanport / peer IOPS), each round's IOPS, and CPU seconds per
# million I/Os of the target (see "CPU" below).
#
#   bench/compare.sh local [--seconds N] [--size 1G] [--rounds 3] [--workloads a,b]
#       fio (io_uring, direct, fixedbufs, registerfiles) vs `sanport bench local`, on a loop device over a file
#       in /dev/shm that it creates and removes: 4k randread QD32, 4k randread QD1, 128k sequential read QD8,
#       4k randwrite QD32, 128k sequential write QD8. Needs root (losetup) and fio.
#   bench/compare.sh tcp [--seconds N] [--size 1G] [--rounds 3] [--workloads a,b]
#       on the same kind of loop device: nbdkit (file plugin) + fio's nbd engine vs sanport's target + sanport's
#       Java client over NVMe/TCP on 127.0.0.1 (both servers up for the whole run, used in turn), 4k randread
#       QD32, 128k sequential read QD8, 4k randwrite QD32 and 128k sequential write QD8; plus iperf3 on loopback
#       (one stream, each round) for the raw TCP bandwidth. Needs root, fio, nbdkit, iperf3.
#       TLS rows ("tls"): a second sanport target on 14421 requiring TLS 1.3 (TLS_AES_128_GCM_SHA256), 4k
#       randread QD32 and 128k read through the Java client over TLS, each round right after the plain run;
#       "vs_plain": TLS IOPS / plain IOPS of the same round.
#       Buffered rows ("buffered"): a third sanport target on 14422, `export --buffered` (the page cache, as
#       nbdkit's file plugin; the same device, --shared-device), 4k randwrite QD32 and 128k write, each round
#       right after the O_DIRECT run: "buffered_vs_nbdkit" (both through the page cache: like for like) and
#       "buffered_vs_direct" (the same round's O_DIRECT sanport run).
#       Device rows ("device_ceiling"): each round, per workload, fio (io_uring, direct, fixedbufs, registerfiles,
#       the same bs and QD) on the loop device itself: the device's own ceiling, "iops_runs"; "sanport_vs_device":
#       sanport over TCP / that, same round. The JSON's "buffered" and "device_ceiling" objects hold these per
#       workload; "ratios" gains their medians as "buffered_vs_nbdkit" and "sanport_vs_device".
#       Every run (each target, fio on the device) starts with the device's page cache written back and dropped
#       (blockdev --flushbufs): an O_DIRECT write to a block device whose range holds cached pages cannot go
#       ahead without blocking (the kernel must write back and invalidate them), so io_uring hands it to an
#       io-wq worker; with nbdkit's dirty pages left over, that made sanport's 4k writes cost 3x the CPU.
#   bench/compare.sh vm-tcp [--seconds N] [--size 1G] [--rounds 3]
#       in ONE Linux 6.1 guest (tests/vm/run.sh --nvme, an image of random data it creates and removes): the
#       kernel's NVMe/TCP initiator + fio (io_uring, direct) connected at once to sanport's target (port 4420)
#       and to the kernel's nvmet-tcp (port 4421), both exporting /dev/nvme0n1, used in turn: 4k randread QD32,
#       128k sequential read QD8, 4k randwrite QD32, 128k sequential write QD8. Needs root, QEMU
#       (tests/vm/prepare.sh) and fio.
#   bench/compare.sh vm-tls [--seconds N] [--size 1G] [--rounds 3] [--workloads a,b]
#       NVMe/TCP over TLS 1.3 in ONE Linux 6.12 guest (tests/vm/run.sh --kernel 6.12 --nvme: Debian 13, nvme-cli,
#       tlshd): as vm-tcp, plus a second sanport requiring TLS (--tls --tls-key, port 4422) and nvmet-tcp with
#       addr_tsas tls1.3 (port 4423), the Linux host on those with `nvme connect --tls` (PSKs from `nvme
#       gen-tls-key --insert` in the .nvme keyring, tlshd doing the kernel's handshakes; nvmet's key also under
#       the discovery NQN). Each round, per workload: nvmet, sanport, nvmet TLS, sanport TLS. 4k randread QD32
#       and 128k read (randwrite_4k_qd32 with --workloads). Ratios (median, min-max of the rounds):
#       tls_sanport_vs_nvmet, sanport_tls_vs_plain, nvmet_tls_vs_plain (goal: TLS >= 0.8x plain),
#       plain_sanport_vs_nvmet; "sanport_record_layer": kTLS or relay, as the TLS target's log says.
#       Needs root, QEMU (tests/vm/prepare.sh --kernel 6.12) and fio.
#   bench/compare.sh vm-rdma [--seconds N] [--size 1G] [--rounds 3]
#       the same in ONE guest with SoftRoCE (tests/vm/run.sh --rdma --nvme) over NVMe/RDMA on rxe0, with
#       nvmet-rdma as the peer; each round also runs perftest ib_read_bw / ib_write_bw (64 KiB messages) for the
#       raw link. bandwidth_vs_perftest = sanport's 128k read MiB/s / ib_write_bw (the target RDMA-WRITEs read
#       data to the host); write_bandwidth_vs_perftest = its 128k write MiB/s / ib_read_bw (the target RDMA-READs
#       write data). Needs root, QEMU, fio, nvme-cli and perftest.
#   bench/compare.sh vm [--seconds N] [--size 1G] [--rounds 3]
#       vm-tcp, then vm-rdma, in one guest boot (run.sh --rdma --nvme); the last line is
#       {"scenario":"vm","tcp":{vm-tcp's object},"rdma":{vm-rdma's object}}.
#   bench/compare.sh connections [--seconds N] [--size 1G] [--rounds 3]
#       issue 11 item 4, no root: `sanport bench remote` 4k randread QD32 alone vs beside 4,096 idle connections and
#       256 hosts stalled mid-R2T (bench/idle-hosts.py) against one `sanport export --device ram:SIZE`, rounds
#       A B A B; the target's RSS per idle connection; that its timeouts shed every one of them (bench/connections.sh).
#
# --workloads takes names (randread_4k_qd32,randread_4k_qd1,seqread_128k,randwrite_4k_qd32,seqwrite_128k) to run
# a subset (local, tcp, vm-*). Writes overwrite the scratch device (the image is created for the run).
#
# CPU ("cpu_s_per_mio": CPU seconds, user + system, per million I/Os, median over the rounds; "_runs": each round):
#   local: the process doing the I/O: sanport bench's JVM (all threads, sampled by the JVM over the measured
#          window) vs fio's job process (fio's own usr+sys over the measured window, io_uring workers included).
#   tcp:   the target process, utime+stime from /proc/PID/stat around each client run: sanport's JVM vs nbdkit,
#          divided by the I/Os of ramp + measured time (IOPS x (seconds + 1)); "client_cpu_s_per_mio": sanport's
#          Java client (the JVM's own sample) vs fio's nbd engine (fio's usr+sys).
#   vm-*:  sanport: its JVM in the guest, as for tcp (vm-tls: each JVM for its own runs). nvmet runs in the kernel: the sum of every kernel thread's
#          utime+stime (children of kthreadd: kworkers, ksoftirqd, nvmet's and the initiator's workqueues), an
#          upper bound that includes the kernel initiator's threads; softirq work charged to fio is not in it.
#          "guest_cpu_s_per_mio": the whole guest's busy time from /proc/stat (initiator, fio and target
#          together): the same measure for both sides, so its difference is the targets' difference.
#   tcp and vm-* keep both targets up: "sanport_cpu_s_while_peer_ran" shows what the idle sanport cost the peer's runs.
set -euo pipefail
SANPORT_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$SANPORT_ROOT/scripts/lib.sh"

usage() { sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
scenario=${1:-}; [ -n "$scenario" ] || usage 2; shift
seconds=10; size=1G; rounds=3; only=""
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=$2; shift 2;;
        --size) size=$2; shift 2;;
        --rounds) rounds=$2; shift 2;;
        --workloads) only=$2; shift 2;;
        -h|--help) usage;;
        *) echo "compare.sh: unknown option $1" >&2; usage 2;;
    esac
done
[[ $seconds =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --seconds and --rounds take positive integers" >&2; exit 2; }
say() { echo "compare.sh: $*" >&2; }

# The workloads, by name: fio's --rw, block size, queue depth. A scenario picks some by index.
W_NAMES=(randread_4k_qd32 randread_4k_qd1 seqread_128k randwrite_4k_qd32 seqwrite_128k)
W_RWS=(randread randread read randwrite write) W_BSS=(4k 4k 128k 4k 128k) W_QDS=(32 1 8 32 8)
pick_workloads() { # INDEX...: sets w to those of them that --workloads names (all without it)
    local i
    w=()
    for i in "$@"; do if [ -z "$only" ] || [[ ,$only, == *,${W_NAMES[$i]},* ]]; then w+=("$i"); fi; done
    [ ${#w[@]} -gt 0 ] || { say "--workloads $only names none of: $(for i in "$@"; do printf '%s ' "${W_NAMES[$i]}"; done)"; exit 2; }
}

# fio's terse output (v3): field 7 = read KiB/s, 8 = read IOPS; 48/49 the same for writes; 88/89 = usr/sys CPU %
# of the job over the measured window (fio resets them at the end of the ramp)
fio_parse() { # rw <<<terse -> "iops mib_s cpu_s_per_mio"
    local f=8; case $1 in *write) f=49;; esac
    awk -F';' -v f="$f" 'NF > 50 { iops = $f; cpu = ($88 + $89) / 100
        printf "%s %.1f %s\n", iops, $(f - 1) / 1024, (iops > 0 ? sprintf("%.2f", cpu / iops * 1e6) : "null"); exit }'
}
fio_run() { # name rw bs qd device -> "iops mib_s cpu_s_per_mio"
    local out
    out=$(fio --name="$1" --filename="$5" --rw="$2" --bs="$3" --iodepth="$4" --ioengine=io_uring --direct=1 \
              --fixedbufs=1 --registerfiles=1 --numjobs=1 --time_based --runtime="$seconds" --ramp_time=1 \
              --norandommap --randrepeat=0 --minimal) || { say "fio failed: $out"; return 1; }
    fio_parse "$2" <<<"$out"
}
bench_json_parse() { # <<<sanport bench --json -> "iops mib_s cpu_s_per_mio"
    sed -E 's/.*"iops":([0-9.]+).*"mib_s":([0-9.]+).*"cpu_s_per_mio":([0-9.]+|null).*/\1 \2 \3/'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "null") printf "%.3f\n", a / b; else print "null" }'; }
median() { # values... -> the median (nulls left out), null if none
    printf '%s\n' "$@" | grep -Ev '^(null|)$' | sort -g | awk '{ v[NR] = $1 }
        END { if (!NR) print "null"; else printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
stats() { # values... -> "median":m,"min":a,"max":b
    local v; v=$(printf '%s\n' "$@" | grep -Ev '^(null|)$' | sort -g) || true
    if [ -z "$v" ]; then echo '"median":null,"min":null,"max":null'; return; fi
    echo "\"median\":$(median $v),\"min\":$(head -1 <<<"$v"),\"max\":$(tail -1 <<<"$v")"
}
list() { local IFS=,; echo "[$*]"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Each run's result: RES[side,workload,round] = "IOPS MiB/s CPU EXTRA" (side s = sanport, p = the peer; CPU the
# target's s per million I/Os; EXTRA a second CPU figure named by $extra_key, or null)
declare -A RES
extra_key=""
record() { # side index round "iops mib_s cpu [extra]"
    local a=($4); RES[$1,$2,$3]="${a[0]} ${a[1]} ${a[2]:-null} ${a[3]:-null}"
}
field() { local a=(${RES[$1,$2,$3]}); echo "${a[$4]}"; } # side index round column
column() { local r; for r in $(seq "$rounds"); do field "$1" "$2" "$r" "$3"; done; } # side index column -> per round
ratios_of() { # index [SIDE_A SIDE_B] -> per round: A's IOPS / B's (default sanport / the peer)
    local r; for r in $(seq "$rounds"); do ratio "$(field "${2:-s}" "$1" "$r" 0)" "$(field "${3:-p}" "$1" "$r" 0)"; done; }
say_pair() { # index round: both halves of one round, as it ends
    say "round $2 ${W_NAMES[$1]}: peer $(field p "$1" "$2" 0) IOPS, sanport $(field s "$1" "$2" 0) IOPS: ratio $(ratio "$(field s "$1" "$2" 0)" "$(field p "$1" "$2" 0)"); CPU s per million I/Os: sanport $(field s "$1" "$2" 2), peer $(field p "$1" "$2" 2); load $(loadavg)"
}
workloads_json() { # INDEX...: "name":{median, min, max of the per-round ratios, IOPS and CPU per round},...
    local i out="" sep=""
    for i in "$@"; do
        out+="$sep\"${W_NAMES[$i]}\":{$(stats $(ratios_of "$i")),\"sanport\":$(list $(column s "$i" 0)),\"peer\":$(list $(column p "$i" 0))"
        out+=",\"mib_s\":{\"sanport\":$(median $(column s "$i" 1)),\"peer\":$(median $(column p "$i" 1))}"
        out+=",\"cpu_s_per_mio\":{\"sanport\":$(median $(column s "$i" 2)),\"peer\":$(median $(column p "$i" 2)),\"sanport_runs\":$(list $(column s "$i" 2)),\"peer_runs\":$(list $(column p "$i" 2))}"
        [ -z "$extra_key" ] || out+=",\"$extra_key\":{\"sanport\":$(median $(column s "$i" 3)),\"peer\":$(median $(column p "$i" 3))}"
        out+="}"; sep=,
    done
    echo "$out"
}
median_ratios_json() { # INDEX... -> "name":median,...
    local i out="" sep=""
    for i in "$@"; do out+="$sep\"${W_NAMES[$i]}\":$(median $(ratios_of "$i"))"; sep=,; done
    echo "$out"
}
has() { local i; for i in "${@:2}"; do [ "$i" = "$1" ] && return 0; done; return 1; } # INDEX LIST...

# CPU time from /proc: clock ticks of utime + stime
CLK_TCK=$(getconf CLK_TCK)
proc_ticks() { # PID -> utime+stime of the whole process (every thread, living and ended)
    local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }; local f=($s); echo $(( f[11] + f[12] ))   # fields 14 and 15, counted from field 3 (state)
}
per_mio() { # TICKS IOPS SECONDS -> CPU seconds per million I/Os, the I/Os being IOPS x SECONDS
    awk -v t="$1" -v hz="$CLK_TCK" -v iops="$2" -v s="$3" 'BEGIN { n = iops * s; if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print "null" }'
}

sanport_run() { # rw bs qd device -> "iops mib_s cpu_s_per_mio"
    "$SANPORT_ROOT/sanport" bench local --device "$4" --rw "$1" --bs "$2" --qd "$3" --seconds "$seconds" \
        --ramp 1 --json | tail -1 | bench_json_parse
}

local_scenario() {
    sanport_ensure_packages --who compare.sh bench || exit 1
    sanport_find_jdk && sanport_build_if_needed
    make_loop_device
    pick_workloads 0 1 2 3 4
    local load0 t0=$SECONDS i r out
    load0=$(loadavg)
    say "device: $dev over $img; $rounds rounds of fio then sanport per workload, $seconds s per run after 1 s ramp; machine: $(nproc) cores, $(uname -r), load $load0"
    local -a loads=()
    for r in $(seq "$rounds"); do
        for i in "${w[@]}"; do
            out=$(fio_run "${W_NAMES[$i]}" "${W_RWS[$i]}" "${W_BSS[$i]}" "${W_QDS[$i]}" "$dev") || exit 1
            record p "$i" "$r" "$out"
            out=$(sanport_run "${W_RWS[$i]}" "${W_BSS[$i]}" "${W_QDS[$i]}" "$dev") || { say "sanport bench local failed"; exit 1; }
            record s "$i" "$r" "$out"
            say_pair "$i" "$r"
        done
        loads+=("\"$(loadavg)\"")
    done
    say "$((SECONDS - t0)) s in all"
    printf '{"scenario":"local","date":"%s","machine":"%s cores, kernel %s","load_avg_start":"%s","load_avg_rounds":%s,"device":"loop over /dev/shm, %s","seconds":%s,"rounds":%s,"peer":"fio %s io_uring fixedbufs registerfiles","cpu":"the I/O process: sanport bench JVM (all threads) vs fio job, user+system over the measured window",%s,"ratios":{%s}}\n' \
        "$(date -u +%FT%TZ)" "$(nproc)" "$(uname -r)" "$load0" "$(list "${loads[@]}")" "$size" "$seconds" "$rounds" "$(fio --version)" \
        "$(workloads_json "${w[@]}")" "$(median_ratios_json "${w[@]}")"
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
    pick_workloads 0 2 3 4
    local load0 t0=$SECONDS i r out
    load0=$(loadavg)
    say "device: $dev over $img; $rounds rounds of iperf3, then per workload nbdkit+fio, sanport (O_DIRECT; then TLS for reads, --buffered for writes) and fio on the device, $seconds s per run after 1 s ramp; machine: $(nproc) cores, $(uname -r), load $load0"
    extra_key=client_cpu_s_per_mio idle_ticks=0

    iperf3 -s -p 15201 >/dev/null 2>&1 & cleanup_pids+=($!)
    wait_port 15201
    say "nbdkit file plugin on 127.0.0.1:10809"
    nbdkit --exit-with-parent -f -i 127.0.0.1 -p 10809 file "$dev" >/dev/null 2>&1 & cleanup_pids+=($!)
    local nbdkit_pid=$!
    wait_port 10809
    local nqn=nqn.2026-11.io.sanport:compare
    say "sanport target exporting $dev on 127.0.0.1:14420"
    "$SANPORT_ROOT/sanport" export --device "$dev" --address 127.0.0.1 --port 14420 --nqn "$nqn" --allow-any-host \
        --shared-device \
        --discovery-port 0 >/tmp/sanport-compare-target.log 2>&1 & cleanup_pids+=($!)
    local sanport_pid=$!   # the launcher execs java: this is the target's JVM
    wait_port 14420
    # the same device over NVMe/TCP with TLS 1.3 (TLS_AES_128_GCM_SHA256; a fixed key: loopback only), for the
    # tls rows: 4k randread QD32 and 128k read, TLS vs plain in the same round
    local tls_host=nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000c0de
    local tls_key='NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'
    say "sanport target exporting $dev with TLS on 127.0.0.1:14421"
    "$SANPORT_ROOT/sanport" export --device "$dev" --address 127.0.0.1 --port 14421 --nqn "$nqn" \
        --allow-host "$tls_host" --tls-key "$tls_key" --shared-device --discovery-port 0 >/tmp/sanport-compare-tls.log 2>&1 & cleanup_pids+=($!)
    wait_port 14421
    # the same device through the page cache, as nbdkit's file plugin writes it, for the buffered rows
    say "sanport target exporting $dev --buffered on 127.0.0.1:14422"
    "$SANPORT_ROOT/sanport" export --device "$dev" --buffered --address 127.0.0.1 --port 14422 --nqn "$nqn" \
        --allow-any-host --shared-device --discovery-port 0 >/tmp/sanport-compare-buffered.log 2>&1 & cleanup_pids+=($!)
    local buffered_pid=$!
    wait_port 14422
    # no run inherits another's page cache (see the header: cached pages send O_DIRECT writes to io-wq)
    flush_device() { blockdev --flushbufs "$dev" || { say "blockdev --flushbufs $dev failed"; exit 1; }; }

    nbd_fio() { # index seconds -> fio terse
        fio --name="${W_NAMES[$1]}" --ioengine=nbd --uri=nbd://127.0.0.1:10809/ --rw="${W_RWS[$1]}" --bs="${W_BSS[$1]}" \
            --iodepth="${W_QDS[$1]}" --numjobs=1 --time_based --runtime="$2" --ramp_time=1 --norandommap \
            --randrepeat=0 --size="$size" --minimal
    }
    sanport_client() { # index seconds [port] -> bench --json
        "$SANPORT_ROOT/sanport" bench remote --address 127.0.0.1 --port "${3:-14420}" --nqn "$nqn" --queues 1 \
            --rw "${W_RWS[$1]}" --bs "${W_BSS[$1]}" --qd "${W_QDS[$1]}" --seconds "$2" --ramp 1 --json | tail -1
    }
    tls_client() { # index seconds -> bench --json, over TLS
        "$SANPORT_ROOT/sanport" bench remote --address 127.0.0.1 --port 14421 --nqn "$nqn" --queues 1 \
            --host-nqn "$tls_host" --tls-key "$tls_key" \
            --rw "${W_RWS[$1]}" --bs "${W_BSS[$1]}" --qd "${W_QDS[$1]}" --seconds "$2" --ramp 1 --json | tail -1
    }
    declare -A TLS=()
    tls_half() { # index round: TLS IOPS and MiB/s, the ratio to the plain run of the same round
        local a
        flush_device
        out=$(tls_client "$1" "$seconds") || { say "bench remote over TLS failed: $out"; exit 1; }
        a=($(bench_json_parse <<<"$out"))
        TLS[$1,$2]="${a[0]} ${a[1]}"
        say "round $2 ${W_NAMES[$1]} over TLS: ${a[0]} IOPS, ${a[1]} MiB/s; vs plain $(ratio "${a[0]}" "$(field s "$1" "$2" 0)")"
    }
    tls_json() { # "name":{"iops_runs":[..],"vs_plain":{median,min,max},"vs_plain_runs":[..]},...
        local i r out="" sep="" iops v
        for i in "${w[@]}"; do
            [ "$i" = 0 ] || [ "$i" = 2 ] || continue
            iops=() v=()
            for r in $(seq "$rounds"); do
                local a=(${TLS[$i,$r]})
                iops+=("${a[0]}"); v+=("$(ratio "${a[0]}" "$(field s "$i" "$r" 0)")")
            done
            out+="$sep\"${W_NAMES[$i]}\":{\"iops_runs\":$(list "${iops[@]}"),\"vs_plain\":{$(stats "${v[@]}")},\"vs_plain_runs\":$(list "${v[@]}")}"
            sep=,
        done
        echo "{$out}"
    }
    buffered_half() { # index round: sanport --buffered (side b), its target's CPU as for sanport_half
        local t0 a
        flush_device
        t0=$(proc_ticks "$buffered_pid")
        out=$(sanport_client "$1" "$seconds" 14422) || { say "bench remote to the --buffered target failed: $out"; exit 1; }
        a=($(bench_json_parse <<<"$out"))
        record b "$1" "$2" "${a[0]} ${a[1]} $(per_mio $(( $(proc_ticks "$buffered_pid") - t0 )) "${a[0]}" $((seconds + 1))) ${a[2]}"
        say "round $2 ${W_NAMES[$1]} sanport --buffered: ${a[0]} IOPS, vs nbdkit $(ratio "${a[0]}" "$(field p "$1" "$2" 0)"), vs O_DIRECT $(ratio "${a[0]}" "$(field s "$1" "$2" 0)"); CPU s per million I/Os $(field b "$1" "$2" 2)"
    }
    device_half() { # index round: fio on the loop device itself (side d): the ceiling
        flush_device
        out=$(fio_run "${W_NAMES[$1]}" "${W_RWS[$1]}" "${W_BSS[$1]}" "${W_QDS[$1]}" "$dev") || exit 1
        record d "$1" "$2" "$out"
        say "round $2 ${W_NAMES[$1]} fio on $dev: $(field d "$1" "$2" 0) IOPS; sanport over TCP / device $(ratio "$(field s "$1" "$2" 0)" "$(field d "$1" "$2" 0)")"
    }
    extra_json() { # "buffered":{..},"device_ceiling":{..}
        local i b="" d="" bs="" ds=""
        for i in "${w[@]}"; do
            d+="$ds\"${W_NAMES[$i]}\":{\"iops\":$(median $(column d "$i" 0)),\"iops_runs\":$(list $(column d "$i" 0)),\"sanport_vs_device\":{$(stats $(ratios_of "$i" s d))},\"sanport_vs_device_runs\":$(list $(ratios_of "$i" s d))}"
            ds=,
            has "$i" "${wb[@]}" || continue
            b+="$bs\"${W_NAMES[$i]}\":{\"iops_runs\":$(list $(column b "$i" 0)),\"mib_s\":$(median $(column b "$i" 1)),\"buffered_vs_nbdkit\":{$(stats $(ratios_of "$i" b p))},\"buffered_vs_nbdkit_runs\":$(list $(ratios_of "$i" b p)),\"buffered_vs_direct\":{$(stats $(ratios_of "$i" b s))},\"cpu_s_per_mio\":$(median $(column b "$i" 2)),\"cpu_s_per_mio_runs\":$(list $(column b "$i" 2))}"
            bs=,
        done
        echo "\"buffered\":{$b},\"device_ceiling\":{$d}"
    }
    median_of_ratios() { # A B INDEX...: "name":median of A/B,...
        local a=$1 b=$2 i out="" sep=""; shift 2
        for i in "$@"; do out+="$sep\"${W_NAMES[$i]}\":$(median $(ratios_of "$i" "$a" "$b"))"; sep=,; done
        echo "{$out}"
    }
    # the target's CPU around one client run (ramp included: IOPS x (seconds + 1) I/Os), then the client's own
    peer_half() { # index round
        local t0 a s0
        flush_device
        t0=$(proc_ticks "$nbdkit_pid") s0=$(proc_ticks "$sanport_pid")
        out=$(nbd_fio "$1" "$seconds") || { say "fio failed: $out"; exit 1; }
        idle_ticks=$(( idle_ticks + $(proc_ticks "$sanport_pid") - s0 ))   # sanport's target, idle meanwhile
        a=($(fio_parse "${W_RWS[$1]}" <<<"$out"))
        record p "$1" "$2" "${a[0]} ${a[1]} $(per_mio $(( $(proc_ticks "$nbdkit_pid") - t0 )) "${a[0]}" $((seconds + 1))) ${a[2]}"
    }
    sanport_half() { # index round
        local t0 a
        flush_device
        t0=$(proc_ticks "$sanport_pid")
        out=$(sanport_client "$1" "$seconds") || { say "bench remote failed: $out"; exit 1; }
        a=($(bench_json_parse <<<"$out"))
        record s "$1" "$2" "${a[0]} ${a[1]} $(per_mio $(( $(proc_ticks "$sanport_pid") - t0 )) "${a[0]}" $((seconds + 1))) ${a[2]}"
    }
    say "warm-up, not counted: 2 s of 4k randread QD32 on each (the target's JIT)"
    nbd_fio 0 2 >/dev/null; sanport_client 0 2 >/dev/null; sanport_client 3 2 14422 >/dev/null

    local -a loads=() iperf=() bw=() wbw=() wb=()   # wb: the write workloads, also run on the --buffered target
    for i in "${w[@]}"; do if [ "$i" = 3 ] || [ "$i" = 4 ]; then wb+=("$i"); fi; done
    for r in $(seq "$rounds"); do
        iperf+=("$(iperf3 -c 127.0.0.1 -p 15201 -t "$seconds" -J | awk -F'[:,]' '/"sum_received"/ {r=1} r && /"bits_per_second"/ && !f {printf "%.1f", $2/8/1048576; f = 1}')")
        say "round $r iperf3: ${iperf[-1]} MiB/s"
        for i in "${w[@]}"; do
            peer_half "$i" "$r"
            sanport_half "$i" "$r"
            say_pair "$i" "$r"
            if [ "$i" = 0 ] || [ "$i" = 2 ]; then tls_half "$i" "$r"; fi
            if has "$i" "${wb[@]}"; then buffered_half "$i" "$r"; fi
            device_half "$i" "$r"
        done
        bw+=("$(has 2 "${w[@]}" && ratio "$(field s 2 "$r" 1)" "${iperf[-1]}" || echo null)")
        wbw+=("$(has 4 "${w[@]}" && ratio "$(field s 4 "$r" 1)" "${iperf[-1]}" || echo null)")
        loads+=("\"$(loadavg)\"")
    done
    kill -0 "$sanport_pid" 2>/dev/null || { say "the target died: see /tmp/sanport-compare-target.log"; exit 1; }
    kill -0 "$buffered_pid" 2>/dev/null || { say "the --buffered target died: see /tmp/sanport-compare-buffered.log"; exit 1; }
    say "$((SECONDS - t0)) s in all"
    printf '{"scenario":"tcp","date":"%s","machine":"%s cores, kernel %s","load_avg_start":"%s","load_avg_rounds":%s,"device":"loop over /dev/shm, %s","seconds":%s,"rounds":%s,"peer":"nbdkit %s file plugin + fio %s nbd engine","cpu":"target process utime+stime from /proc (sanport JVM vs nbdkit) per IOPS x (seconds + 1 s ramp); client_cpu: the Java client JVM vs fio, over the measured window","page_cache":"blockdev --flushbufs on the device before every run","buffered_target":"sanport export --buffered, the same device","device_peer":"fio io_uring direct fixedbufs registerfiles on the device",%s,%s,"iperf3_mib_s":%s,"bandwidth_vs_iperf3":{%s,"runs":%s},"write_bandwidth_vs_iperf3":{%s,"runs":%s},"ratios":{%s,"iops_vs_nbdkit":%s,"bandwidth_vs_iperf3":%s,"write_bandwidth_vs_iperf3":%s,"buffered_vs_nbdkit":%s,"sanport_vs_device":%s},"tls":%s,%s}\n' \
        "$(date -u +%FT%TZ)" "$(nproc)" "$(uname -r)" "$load0" "$(list "${loads[@]}")" "$size" "$seconds" "$rounds" \
        "$(nbdkit --version | awk '{print $2}')" "$(fio --version)" "$(idle_json)" "$(workloads_json "${w[@]}")" "$(list "${iperf[@]}")" \
        "$(stats "${bw[@]}")" "$(list "${bw[@]}")" "$(stats "${wbw[@]}")" "$(list "${wbw[@]}")" \
        "$(median_ratios_json "${w[@]}")" "$(has 0 "${w[@]}" && median $(ratios_of 0) || echo null)" "$(median "${bw[@]}")" "$(median "${wbw[@]}")" \
        "$(median_of_ratios b p "${wb[@]}")" "$(median_of_ratios s d "${w[@]}")" "$(tls_json)" "$(extra_json)"
}

# ---- vm-tcp, vm-rdma, vm: the Linux initiator against sanport and against nvmet, in one guest
# The host half: one guest (tests/vm/run.sh), the jars copied aside, an image of $size; the guest half is this
# script again ("$kind-guest"), whose last stdout line is the JSON result; the host adds its own load average.
vm_scenario() { # vm_scenario KIND IMAGE(random|sparse) TRANSPORTS RUN.SH-OPTIONS...
    local kind=$1 image=$2 transports=$3; shift 3
    [ "$(id -u)" = 0 ] || { say "needs root (QEMU harness)"; exit 1; }
    sanport_ensure_packages --who compare.sh bench vm || exit 1
    sanport_find_jdk && sanport_build_if_needed
    local prep=(); [[ " $* " != *" --kernel 6.12 "* ]] || prep=(--kernel 6.12)
    "$SANPORT_ROOT/tests/vm/prepare.sh" "${prep[@]}" >&2 || { say "tests/vm/prepare.sh ${prep[*]} failed"; exit 1; }
    local tmp rc load0 json
    tmp=$(mktemp -d "/tmp/sanport-compare-$kind.XXXXXX")
    vm_tmp=$tmp
    vm_sampler=""
    trap '[ -z "$vm_sampler" ] || kill $vm_sampler 2>/dev/null || true; rm -rf "$vm_tmp"' EXIT   # set -e holds in the trap too: a failed kill would make the exit status 2
    cp -r "$SANPORT_LIB" "$tmp/lib"   # a rebuild on the host while the guest runs must not swap the jars
    if [ "$image" = random ]; then
        say "filling a $size image with random data (holes would read faster than data)"
        head -c "$(numfmt --from=iec "$size")" /dev/urandom >"$tmp/disk.img"
    else
        truncate -s "$size" "$tmp/disk.img"   # sparse: the same holes for both targets; the transport is what differs
    fi
    load0=$(loadavg)
    (while sleep 30; do cut -d' ' -f1 /proc/loadavg; done) >"$tmp/load" & vm_sampler=$!
    # TCG: a JVM start ~1 min, fio ~3 s of its own per run; perftest 2 x 5 s per round
    local timeout=$((600 + transports * (180 + rounds * 8 * (seconds + 8) + rounds * 30)))
    [ "$kind" != vm-tls ] || timeout=$((900 + rounds * 4 * 3 * (seconds + 10)))   # 2 JVMs; 4 targets x <= 3 workloads
    say "booting the guest (tests/vm/run.sh $* --nvme, a $image $size image); $rounds rounds, $seconds s per fio run after 1 s ramp; host load $load0; guest timeout $timeout s"
    set +e
    "$SANPORT_ROOT/tests/vm/run.sh" "$@" --nvme "$tmp/disk.img" --timeout "$timeout" \
        --env "SANPORT_COMPARE_LIB=$tmp/lib" --env "SANPORT_COMPARE_JAVA=$JAVA_HOME" \
        --env "SANPORT_COMPARE_HOST=$(nproc) cores, kernel $(uname -r)" \
        -- "$SANPORT_ROOT/bench/compare.sh $kind-guest --seconds $seconds --size $size --rounds $rounds${only:+ --workloads $only}" >"$tmp/out" \
        2> >(grep --line-buffered -v '^Picked up JAVA_TOOL_OPTIONS' >&2)
    rc=$?
    set -e
    kill "$vm_sampler" 2>/dev/null; wait "$vm_sampler" 2>/dev/null || true; vm_sampler=""
    grep -v '^{' "$tmp/out" >&2 || true
    [ "$rc" = 0 ] || { say "the guest run failed (tests/vm/run.sh exit $rc)"; exit 1; }
    json=$(grep "^{\"scenario\":\"$kind\"" "$tmp/out" | tail -1) || { say "the guest printed no result"; exit 1; }
    echo "${json%\}},\"host_load_avg_start\":\"$load0\",\"host_load_avg_end\":\"$(loadavg)\",\"host_load_1min_every_30s\":$(list $(cat "$tmp/load"))}"
}

# CPU in the guest: every kernel thread's utime+stime ("pid ticks"; children of kthreadd, pid 2), and the whole
# guest's busy time (/proc/stat: user nice system irq softirq steal)
kthread_ticks() {
    awk '{ p = FILENAME; gsub(/[^0-9]/, "", p); sub(/^.*\) /, ""); if ($2 == 2 || p == 2) print p, $12 + $13 }' \
        /proc/[0-9]*/stat 2>/dev/null || true
}
kthread_delta() { awk 'NR == FNR { b[$1] = $2; next } { d += $2 - ($1 in b ? b[$1] : 0) } END { print d + 0 }' "$1" "$2"; }
guest_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# The guest half shared by vm-tcp, vm-rdma and vm-tls: the kernel initiator + fio connected at once to (a)
# sanport on $addr:4420 and (b) the kernel's nvmet on $addr:4421, both exporting /dev/nvme0n1 over $trtype; every
# round runs each workload on nvmet, then on sanport. With TLS=tls (tcp only, the 6.12 guest) also (c) a second
# sanport requiring TLS 1.3 on 4422 and (d) nvmet with addr_tsas tls1.3 on 4423, connected with `nvme connect
# --tls` (keys in the .nvme keyring, tlshd doing the kernel's handshakes); those run right after the plain pair
# (sides S and P). Fills RES; calls ROUND_HOOK ROUND after each round; sets t0.
vm_guest_compare() { # vm_guest_compare TRTYPE ROUND_HOOK [tls]
    local trtype=$1 round_hook=$2 tls=${3:-}
    [ "${SANPORT_VM_GUEST:-}" = 1 ] || { say "$scenario runs inside tests/vm/run.sh only"; exit 2; }
    addr=169.254.77.1 back=/dev/nvme0n1 log=/tmp/vm-$trtype-target.log tls_log=/tmp/vm-tls-target.log
    nqn_s=nqn.2026-11.io.sanport:vm-$trtype nqn_k=nqn.2026-11.io.sanport:vm-$trtype-nvmet
    nqn_ts=nqn.2026-11.io.sanport:vm-tls nqn_tk=nqn.2026-11.io.sanport:vm-tls-nvmet
    if [ -n "$tls" ]; then pick_workloads 0 2 3; [ -n "$only" ] || w=(0 2)   # randwrite_4k_qd32 on request
    else pick_workloads 0 2 3 4; fi   # randread_4k_qd32 seqread_128k randwrite_4k_qd32 seqwrite_128k
    spid="" tpid="" cfs=/sys/kernel/config/nvmet dev="" dev_s="" dev_k="" dev_ts="" dev_tk=""
    extra_key=guest_cpu_s_per_mio
    RES=() idle_ticks=0

    vm_connect() {   # vm_connect NQN PORT [nvme connect options]: sets dev to the namespace's block device (no udev: sysfs + mknod)
        local b n out
        local try
        for try in 1 2 3; do   # a TLS handshake under TCG can outlast the kernel's timeout: try again
            out=$(nvme connect -t "$trtype" -a "$addr" -s "$2" -n "$1" "${@:3}" 2>&1) && break
            say "nvme connect $* (try $try): $out; kernel: $(dmesg 2>/dev/null | grep -i nvme | tail -3 | tr '\n' ' ')"
            [ "$try" != 3 ] || return 1
            sleep 2
        done
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
    vm_disconnect() { # vm_disconnect NQN DEV
        nvme disconnect -n "$1" >/dev/null
        local n; for n in $(seq 100); do [ -e "/sys/block/${2#/dev/}" ] || break; sleep 0.1; done
        [ -e "/sys/block/${2#/dev/}" ] || rm -f "$2"
    }
    vm_pid() { case $1 in s) echo "$spid";; S) echo "$tpid";; esac; }   # a sanport side's JVM
    vm_sanport_ticks() { local t; t=$(proc_ticks "$spid"); [ -z "$tpid" ] || t=$(( t + $(proc_ticks "$tpid") )); echo "$t"; }   # both JVMs
    vm_half() { # vm_half s|p|S|P INDEX ROUND DEVICE: one fio run; the target's and the guest's CPU around it
        local out a t0 g0 ticks
        g0=$(guest_busy)
        case $1 in s|S) t0=$(proc_ticks "$(vm_pid "$1")");; *) t0=$(vm_sanport_ticks); kthread_ticks >/tmp/vm-kt0;; esac
        out=$(fio_run "vm-$trtype-${W_NAMES[$2]}" "${W_RWS[$2]}" "${W_BSS[$2]}" "${W_QDS[$2]}" "$4") || return 1
        a=($out)
        case $1 in
            s|S) ticks=$(( $(proc_ticks "$(vm_pid "$1")") - t0 ));;
            *) idle_ticks=$(( idle_ticks + $(vm_sanport_ticks) - t0 ))   # sanport, connected but idle, while nvmet runs
               kthread_ticks >/tmp/vm-kt1; ticks=$(kthread_delta /tmp/vm-kt0 /tmp/vm-kt1);;
        esac
        record "$1" "$2" "$3" "${a[0]} ${a[1]} $(per_mio "$ticks" "${a[0]}" $((seconds + 1))) $(per_mio $(( $(guest_busy) - g0 )) "${a[0]}" $((seconds + 1)))"
    }
    vm_kernel_log() { # the initiator's timeouts and resets since the last call: a stall shows as low IOPS only
        local lines
        lines=$(dmesg -c 2>/dev/null | grep -Ei 'nvme.*(timeout|reset|reconnect|error)' | tail -5) || true
        [ -z "$lines" ] || say "$1: the kernel initiator logged: $lines"
    }
    vm_nvmet_remove() { # vm_nvmet_remove NQN PORTID (what exists of it; set -e: every step may fail)
        rm -f "$cfs/ports/$2/subsystems/$1" 2>/dev/null || true; rmdir "$cfs/ports/$2" 2>/dev/null || true
        [ ! -d "$cfs/subsystems/$1" ] || echo 0 >"$cfs/subsystems/$1/namespaces/1/enable" 2>/dev/null || true
        rmdir "$cfs/subsystems/$1/namespaces/1" "$cfs/subsystems/$1" 2>/dev/null || true
    }
    vm_guest_cleanup() {
        local q; for q in "$nqn_s" "$nqn_k" "$nqn_ts" "$nqn_tk"; do nvme disconnect -n "$q" >/dev/null 2>&1 || true; done
        [ -z "$spid" ] || kill -TERM "$spid" 2>/dev/null || true
        [ -z "$tpid" ] || kill -TERM "$tpid" 2>/dev/null || true
        vm_nvmet_remove "$nqn_k" 1; vm_nvmet_remove "$nqn_tk" 2
    }
    vm_sanport_start() { # vm_sanport_start LOG PORT NQN [export options]: sets pid; waits until it serves
        "$SANPORT_COMPARE_JAVA/bin/java" "${sanport_java_flags[@]}" -cp "$SANPORT_COMPARE_LIB/*" io.sanport.cli.Main export \
            --device "$back" --transport "$trtype" --address "$addr" --port "$2" --nqn "$3" --discovery-port 0 "${@:4}" >"$1" 2>&1 &
        pid=$!
        local i
        for i in $(seq 1200); do
            grep -q '^serving' "$1" && break
            kill -0 "$pid" 2>/dev/null || { cat "$1" >&2; say "sanport exited"; exit 1; }
            sleep 0.1
        done
        grep -q '^serving' "$1" && grep -q "listening: $trtype $addr:$2" "$1" \
            || { cat "$1" >&2; say "sanport does not serve $trtype $addr:$2"; exit 1; }
    }
    vm_nvmet_add() { # vm_nvmet_add NQN PORTID SVCID [TSAS]: a subsystem exporting $back on its own port
        mkdir "$cfs/subsystems/$1"
        echo 1 >"$cfs/subsystems/$1/attr_allow_any_host"
        mkdir "$cfs/subsystems/$1/namespaces/1"
        echo -n "$back" >"$cfs/subsystems/$1/namespaces/1/device_path"
        echo 1 >"$cfs/subsystems/$1/namespaces/1/enable"
        mkdir "$cfs/ports/$2"
        echo "$trtype" >"$cfs/ports/$2/addr_trtype"; echo ipv4 >"$cfs/ports/$2/addr_adrfam"
        echo "$addr" >"$cfs/ports/$2/addr_traddr"; echo "$3" >"$cfs/ports/$2/addr_trsvcid"
        [ -z "${4:-}" ] || echo "$4" >"$cfs/ports/$2/addr_tsas"
        ln -s "$cfs/subsystems/$1" "$cfs/ports/$2/subsystems/$1"
    }
    trap vm_guest_cleanup EXIT
    t0=$SECONDS
    dmesg -c >/dev/null 2>&1

    local pid i r
    say "(a) sanport export --transport $trtype $back on $addr:4420 (JVM C1-only under TCG)"
    vm_sanport_start "$log" 4420 "$nqn_s" --allow-any-host
    spid=$pid
    say "sanport serves after $((SECONDS - t0)) s; nvme connect -t $trtype to it"
    vm_connect "$nqn_s" 4420 || { tail -20 "$log" >&2; say "nvme connect to sanport failed"; exit 1; }
    dev_s=$dev

    say "(b) kernel nvmet-$trtype (configfs) exporting $back on $addr:4421"
    vm_nvmet_add "$nqn_k" 1 4421
    vm_connect "$nqn_k" 4421 || { say "nvme connect to nvmet-$trtype failed"; exit 1; }
    dev_k=$dev
    say "sanport: $dev_s, nvmet-$trtype: $dev_k"

    if [ -n "$tls" ]; then
        # one configured PSK per subsystem, as `nvme gen-tls-key --insert` makes it: its retained PSK lands in .nvme
        # under this host's identity, where tlshd finds it for both ends (host and nvmet share this guest's keyring);
        # nvmet's tlshd also looks the key up under the discovery NQN, so that identity gets the same key
        local hostnqn key out p
        hostnqn=$(cat /etc/nvme/hostnqn)
        for p in /sys/module/nvme_tcp/parameters/tls_handshake_timeout /sys/module/nvmet_tcp/parameters/tls_handshake_timeout; do
            [ -w "$p" ] && echo 180 >"$p"   # seconds; the default 10 is short for tlshd + a C1-only JVM under TCG (60 failed at host load 14)
        done
        out=$(nvme gen-tls-key --hmac=1 --hostnqn="$hostnqn" --subsysnqn="$nqn_ts" --insert 2>&1) || { say "gen-tls-key: $out"; exit 1; }
        key=$(grep '^NVMeTLSkey-1:01:' <<<"$out")
        (umask 077; echo "$key" >/tmp/vm-tls.key)
        say "(c) sanport export --tls on $addr:4422 (a second JVM, the device shared)"
        vm_sanport_start "$tls_log" 4422 "$nqn_ts" --allow-host "$hostnqn" --tls --tls-key @/tmp/vm-tls.key --shared-device
        tpid=$pid
        vm_connect "$nqn_ts" 4422 --tls || { tail -20 "$tls_log" >&2; tail -5 /run/tlshd.log >&2; say "nvme connect --tls to sanport failed"; exit 1; }
        dev_ts=$dev
        say "(d) kernel nvmet-tcp with addr_tsas tls1.3 exporting $back on $addr:4423"
        out=$(nvme gen-tls-key --hmac=1 --hostnqn="$hostnqn" --subsysnqn="$nqn_tk" --insert 2>&1) || { say "gen-tls-key: $out"; exit 1; }
        key=$(grep '^NVMeTLSkey-1:01:' <<<"$out")
        nvme check-tls-key --keydata="$key" --hostnqn="$hostnqn" --subsysnqn=nqn.2014-08.org.nvmexpress.discovery --insert >/dev/null 2>&1 || true
        vm_nvmet_add "$nqn_tk" 2 4423 tls1.3
        vm_connect "$nqn_tk" 4423 --tls || { tail -5 /run/tlshd.log >&2; say "nvme connect --tls to nvmet-tcp failed"; exit 1; }
        dev_tk=$dev
        say "TLS: sanport $dev_ts, nvmet-tcp $dev_tk; $(keyctl show %:.nvme 2>/dev/null | grep -c 'psk:') PSKs in .nvme"
    fi
    say "$rounds rounds"

    # the same untimed warm-up for every target: the guest's C1-only JIT is still compiling sanport's I/O path
    for dev in "$dev_k" "$dev_s" $dev_tk $dev_ts; do
        fio --name=warmup --filename="$dev" --rw=randread --bs=4k --iodepth=32 --ioengine=io_uring --direct=1 \
            --time_based --runtime=3 --norandommap --randrepeat=0 --minimal >/dev/null || { say "warm-up fio on $dev failed"; exit 1; }
    done
    for r in $(seq "$rounds"); do
        for i in "${w[@]}"; do
            vm_half p "$i" "$r" "$dev_k" || { say "fio on nvmet failed"; exit 1; }
            vm_half s "$i" "$r" "$dev_s" || { tail -20 "$log" >&2; say "fio on sanport failed"; exit 1; }
            say_pair "$i" "$r"
            [ -n "$tls" ] || continue
            vm_half P "$i" "$r" "$dev_tk" || { say "fio on nvmet-tcp TLS failed"; exit 1; }
            vm_half S "$i" "$r" "$dev_ts" || { tail -20 "$tls_log" >&2; say "fio on sanport TLS failed"; exit 1; }
            say "round $r ${W_NAMES[$i]} TLS: nvmet $(field P "$i" "$r" 0) IOPS, sanport $(field S "$i" "$r" 0) IOPS: ratio $(ratio "$(field S "$i" "$r" 0)" "$(field P "$i" "$r" 0)"); TLS/plain sanport $(ratio "$(field S "$i" "$r" 0)" "$(field s "$i" "$r" 0)"), nvmet $(ratio "$(field P "$i" "$r" 0)" "$(field p "$i" "$r" 0)"); CPU s per million I/Os: sanport $(field S "$i" "$r" 2), nvmet $(field P "$i" "$r" 2)"
        done
        vm_kernel_log "round $r"
        [ -z "$round_hook" ] || "$round_hook" "$r"
    done
    kill -0 "$spid" 2>/dev/null || { tail -20 "$log" >&2; say "sanport died"; exit 1; }
    [ -z "$tpid" ] || kill -0 "$tpid" 2>/dev/null || { tail -20 "$tls_log" >&2; say "sanport (TLS) died"; exit 1; }
    vm_disconnect "$nqn_s" "$dev_s"; vm_disconnect "$nqn_k" "$dev_k"
    [ -z "$tls" ] || { vm_disconnect "$nqn_ts" "$dev_ts"; vm_disconnect "$nqn_tk" "$dev_tk"; }
    kill -TERM "$spid"; wait "$spid" || say "sanport exited $? on SIGTERM"
    spid=""
    if [ -n "$tpid" ]; then kill -TERM "$tpid"; wait "$tpid" || say "sanport (TLS) exited $? on SIGTERM"; tpid=""; fi
    vm_guest_cleanup; trap - EXIT
}

vm_machine() { # the JSON "machine" text of a guest run
    echo "QEMU $(grep -qw kvm-clock /sys/devices/system/clocksource/clocksource0/available_clocksource && echo KVM || echo TCG) guest, $(nproc) vCPUs, kernel $(uname -r); host ${SANPORT_COMPARE_HOST:-?}"
}
idle_json() { echo "\"sanport_cpu_s_while_peer_ran\":$(awk -v t="$idle_ticks" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')"; }
VM_CPU_NOTE="cpu_s_per_mio: sanport = its JVM (utime+stime from /proc), nvmet = every kernel thread (kworkers incl. the initiator's, ksoftirqd), per IOPS x (seconds + 1 s ramp); guest_cpu_s_per_mio: the whole guest's busy time from /proc/stat (initiator + fio + target)"

vm_tcp_guest() {   # the guest half of vm-tcp (SANPORT_VM_GUEST=1)
    if ! ip -o addr show | grep -q ' 169\.254\.77\.1/'; then   # run.sh --rdma has it on sanport0 already
        ip link add sp0 type dummy && ip addr add "169.254.77.1/16" dev sp0 && ip link set sp0 up
    fi
    local load0; load0=$(loadavg)
    vm_guest_compare tcp ""
    say "sanport / nvmet-tcp medians: $(median_ratios_json "${w[@]}"); guest time $((SECONDS - t0)) s"
    printf '{"scenario":"vm-tcp","date":"%s","machine":"%s","guest_load_avg_start":"%s","guest_load_avg_end":"%s","device":"emulated NVMe over a %s image of random data","seconds":%s,"rounds":%s,"initiator":"Linux nvme-tcp + fio %s io_uring direct=1, 169.254.77.1 in the guest","peer":"Linux %s nvmet-tcp (bdev backend)","cpu":"%s",%s,%s,"ratios":{%s,"iops_vs_nvmet":%s,"bandwidth_vs_nvmet":%s}}\n' \
        "$(date -u +%FT%TZ)" "$(vm_machine)" "$load0" "$(loadavg)" "$size" "$seconds" "$rounds" "$(fio --version)" "$(uname -r)" "$VM_CPU_NOTE" "$(idle_json)" \
        "$(workloads_json "${w[@]}")" "$(median_ratios_json "${w[@]}")" "$(median $(ratios_of 0))" "$(median $(ratios_of 2))"
}

vm_rdma_guest() {   # the guest half of vm-rdma (SANPORT_VM_GUEST=1, run.sh --rdma --nvme)
    [ -d /sys/class/infiniband/rxe0 ] || { say "no rxe0: run the guest with tests/vm/run.sh --rdma"; exit 1; }
    local pt_secs mtu load0
    load0=$(loadavg)
    pt_secs=$(( seconds < 5 ? (seconds < 2 ? 2 : seconds) : 5 ))
    mtu=$(ibv_devinfo -d rxe0 2>/dev/null | awk '/active_mtu/ && !f {print $2; f = 1}')
    perftest_bw() {   # perftest_bw ib_read_bw|ib_write_bw port -> MiB/s average (64 KiB messages, rxe0 GID 1)
        local srv out n
        "$1" -d rxe0 -x 1 -F -s 65536 -D "$pt_secs" -p "$2" >/tmp/vm-rdma-$1-server.log 2>&1 &
        srv=$!
        for n in $(seq 100); do ss -Hltn "sport = :$2" | grep -q . && break; sleep 0.1; done
        out=$("$1" -d rxe0 -x 1 -F -s 65536 -D "$pt_secs" -p "$2" "$addr" 2>&1) || { say "$1 failed: $(tail -3 <<<"$out")"; }
        wait "$srv" 2>/dev/null || true
        awk '$1 == 65536 && NF >= 5 { v = $4 } END { print (v != "" ? v : "null") }' <<<"$out"
    }
    local -a rbw=() wbw=() pt=() wpt=()
    perftest_round() { # after each round: (c) perftest on rxe0, and the round's ratios to it
        rbw+=("$(perftest_bw ib_read_bw 18515)"); wbw+=("$(perftest_bw ib_write_bw 18516)")
        pt+=("$(ratio "$(field s 2 "$1" 1)" "${wbw[-1]}")"); wpt+=("$(ratio "$(field s 4 "$1" 1)" "${rbw[-1]}")")
        say "round $1 perftest (rxe0 GID 1, RoCE MTU ${mtu:-?}, 64 KiB, $pt_secs s): ib_read_bw ${rbw[-1]} MiB/s, ib_write_bw ${wbw[-1]} MiB/s; sanport 128k read / ib_write_bw ${pt[-1]}, 128k write / ib_read_bw ${wpt[-1]}"
    }
    vm_guest_compare rdma perftest_round
    say "sanport / nvmet-rdma medians: $(median_ratios_json "${w[@]}"); guest time $((SECONDS - t0)) s"
    printf '{"scenario":"vm-rdma","date":"%s","machine":"%s","guest_load_avg_start":"%s","guest_load_avg_end":"%s","device":"emulated NVMe over a %s image of random data","link":"SoftRoCE rxe0 on a dummy netdev, RoCE MTU %s, initiator and target in the same guest","seconds":%s,"rounds":%s,"initiator":"Linux nvme-rdma + fio %s io_uring direct=1","peer":"Linux %s nvmet-rdma (bdev backend)","cpu":"%s",%s,%s,"perftest":{"version":"%s","msg_bytes":65536,"seconds":%s,"ib_read_bw_mib_s":%s,"ib_write_bw_mib_s":%s},"bandwidth_vs_perftest":{%s,"runs":%s},"write_bandwidth_vs_perftest":{%s,"runs":%s},"ratios":{%s,"iops_vs_nvmet":%s,"bandwidth_vs_nvmet":%s,"bandwidth_vs_perftest":%s,"write_bandwidth_vs_perftest":%s}}\n' \
        "$(date -u +%FT%TZ)" "$(vm_machine)" "$load0" "$(loadavg)" "$size" "${mtu:-?}" "$seconds" "$rounds" "$(fio --version)" "$(uname -r)" "$VM_CPU_NOTE" "$(idle_json)" \
        "$(workloads_json "${w[@]}")" "$(dpkg-query -W -f '${Version}' perftest 2>/dev/null || echo ?)" "$pt_secs" "$(list "${rbw[@]}")" "$(list "${wbw[@]}")" \
        "$(stats "${pt[@]}")" "$(list "${pt[@]}")" "$(stats "${wpt[@]}")" "$(list "${wpt[@]}")" \
        "$(median_ratios_json "${w[@]}")" "$(median $(ratios_of 0))" "$(median $(ratios_of 2))" "$(median "${pt[@]}")" "$(median "${wpt[@]}")"
}

# vm-tls: sides s/p plain sanport/nvmet, S/P the same over TLS 1.3; names for the JSON
VM_TLS_SIDES=(S P s p) VM_TLS_NAMES=(sanport_tls nvmet_tls sanport_plain nvmet_plain)
vm_tls_sides_json() { # INDEX COLUMN median|list -> {"sanport_tls":..,"nvmet_tls":..,...}
    local k out="" sep=""
    for k in 0 1 2 3; do
        if [ "$3" = median ]; then out+="$sep\"${VM_TLS_NAMES[$k]}\":$(median $(column "${VM_TLS_SIDES[$k]}" "$1" "$2"))"
        else out+="$sep\"${VM_TLS_NAMES[$k]}\":$(list $(column "${VM_TLS_SIDES[$k]}" "$1" "$2"))"; fi
        sep=,
    done
    echo "{$out}"
}
# the ratios, each A / B of the same round: name A B
VM_TLS_RATIOS=("tls_sanport_vs_nvmet S P" "sanport_tls_vs_plain S s" "nvmet_tls_vs_plain P p" "plain_sanport_vs_nvmet s p")
vm_tls_workloads_json() {
    local i q out="" sep=""
    for i in "${w[@]}"; do
        out+="$sep\"${W_NAMES[$i]}\":{"
        for q in "${VM_TLS_RATIOS[@]}"; do set -- $q; out+="\"$1\":{$(stats $(ratios_of "$i" "$2" "$3")),\"runs\":$(list $(ratios_of "$i" "$2" "$3"))},"; done
        out+="\"iops\":$(vm_tls_sides_json "$i" 0 list),\"mib_s\":$(vm_tls_sides_json "$i" 1 median)"
        out+=",\"cpu_s_per_mio\":$(vm_tls_sides_json "$i" 2 median),\"cpu_s_per_mio_runs\":$(vm_tls_sides_json "$i" 2 list)"
        out+=",\"guest_cpu_s_per_mio\":$(vm_tls_sides_json "$i" 3 median)}"
        sep=,
    done
    echo "$out"
}
vm_tls_ratios_json() { # "name":{"workload":median,...},...
    local i q out="" sep="" inner isep
    for q in "${VM_TLS_RATIOS[@]}"; do
        set -- $q; inner="" isep=""
        for i in "${w[@]}"; do inner+="$isep\"${W_NAMES[$i]}\":$(median $(ratios_of "$i" "$2" "$3"))"; isep=,; done
        out+="$sep\"$1\":{$inner}"; sep=,
    done
    echo "$out"
}
vm_tls_record_layer() { # what sanport's TLS target says carried its connections' records: kTLS, relay or both
    local k j
    k=$(grep -c 'records in the kernel (kTLS)' "$tls_log") || true
    j=$(grep -c 'records in Java (relay)' "$tls_log") || true
    if [ "$k" -gt 0 ] && [ "$j" -gt 0 ]; then echo "kTLS ($k connections) and relay ($j)"
    elif [ "$k" -gt 0 ]; then echo kTLS
    elif [ "$j" -gt 0 ] || grep -q 'TLS 1\.3 (' "$tls_log"; then echo relay   # before kTLS, the relay said nothing more
    else echo unknown; fi
}

vm_tls_guest() {   # the guest half of vm-tls (SANPORT_VM_GUEST=1, run.sh --kernel 6.12 --nvme)
    command -v keyctl >/dev/null && command -v tlshd >/dev/null && [ -r /etc/nvme/hostnqn ] \
        || { say "no keyctl, tlshd or /etc/nvme/hostnqn: run the guest with tests/vm/run.sh --kernel 6.12"; exit 1; }
    modprobe -a nvme-tcp nvmet nvmet-tcp tls 2>/dev/null || true
    ip link add sp0 type dummy && ip addr add "169.254.77.1/16" dev sp0 && ip link set sp0 up
    local load0 layer tlsline; load0=$(loadavg)
    vm_guest_compare tcp "" tls
    layer=$(vm_tls_record_layer)
    tlsline=$(grep -E 'records in|TLS 1\.3 \(' "$tls_log" | tail -1 | cut -c1-200 | tr -d '"\\') || true
    say "TLS medians: $(vm_tls_ratios_json); sanport's record layer: $layer; guest time $((SECONDS - t0)) s"
    printf '{"scenario":"vm-tls","date":"%s","machine":"%s","guest_load_avg_start":"%s","guest_load_avg_end":"%s","device":"emulated NVMe over a %s image of random data","seconds":%s,"rounds":%s,"initiator":"Linux nvme-tcp + fio %s io_uring direct=1, 169.254.77.1 in the guest; TLS: nvme connect --tls (nvme-cli %s, tlshd, PSK from nvme gen-tls-key --insert in .nvme)","targets":"sanport plain 4420, nvmet-tcp plain 4421, sanport --tls 4422 (a second JVM, --shared-device), nvmet-tcp addr_tsas tls1.3 4423 (Linux %s, bdev backend); each round per workload: nvmet, sanport, nvmet TLS, sanport TLS","sanport_record_layer":"%s","sanport_tls_log":"%s","tls_notes":"the kernel TLS handshake timeout (nvme_tcp tls_handshake_timeout) raised from 10 to 180 s for tlshd and a C1-only JVM under TCG; nvmet-tcp TLS key also under the discovery NQN; under TCG AES-GCM is emulated, so TLS/plain ratios understate real hardware for both targets","goal_tls_vs_plain":0.8,"cpu":"%s",%s,%s,"ratios":{%s}}\n' \
        "$(date -u +%FT%TZ)" "$(vm_machine)" "$load0" "$(loadavg)" "$size" "$seconds" "$rounds" "$(fio --version)" "$(nvme version 2>/dev/null | awk 'NR == 1 { print $3 }')" "$(uname -r)" \
        "$layer" "$tlsline" "$VM_CPU_NOTE; sanport_cpu_s_while_peer_ran: both JVMs" "$(idle_json)" "$(vm_tls_workloads_json)" "$(vm_tls_ratios_json)"
}

vm_guest() { # the guest half of vm: vm-tcp, then vm-rdma, in this one guest (run.sh --rdma --nvme)
    local tcp rdma
    tcp=$(vm_tcp_guest) || { say "vm-tcp failed"; exit 1; }
    echo "$tcp"
    rdma=$(vm_rdma_guest) || { say "vm-rdma failed"; exit 1; }
    echo "$rdma"
    printf '{"scenario":"vm","tcp":%s,"rdma":%s}\n' "$tcp" "$rdma"
}

case $scenario in
    local) local_scenario;;
    tcp) tcp_scenario;;
    vm-tcp) vm_scenario vm-tcp random 1;;
    vm-tcp-guest) vm_tcp_guest;;
    vm-tls) vm_scenario vm-tls random 1 --kernel 6.12;;
    vm-tls-guest) vm_tls_guest;;
    vm-rdma) vm_scenario vm-rdma random 1 --rdma;;
    vm-rdma-guest) vm_rdma_guest;;
    vm) vm_scenario vm random 2 --rdma;;
    vm-guest) vm_guest;;
    connections) . "$SANPORT_ROOT/bench/connections.sh"; connections_scenario;;
    *) echo "compare.sh: unknown scenario '$scenario' (known: local, tcp, vm-tcp, vm-tls, vm-rdma, vm, connections)" >&2; exit 2;;
esac; exit  # on the same line: bash reads no further, so editing this file under a long run is safe
