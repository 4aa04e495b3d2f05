# Sourced by bench/compare.sh: the `connections` scenario (issue 11, item 4). Uses say, wait_port, cleanup and
# $seconds / $size from compare.sh. No root needed: a RAM device, loopback addresses only.
#
# Rounds: --rounds (compare.sh's, default 3).
# One `sanport export --device ram:SIZE` on 127.0.0.1 with the default per-host cap (1024) and timeouts (ICReq and
# Connect 10 s, R2T/H2CData 30 s) but --max-connections 8192: 4,096 idle + 512 stalled + the bench's queues do not
# fit under the default total cap of 4,096 (which would simply refuse the rest). Rounds of A (`sanport bench
# remote` 4k randread QD32 alone) and B (the same beside bench/idle-hosts.py: 4,096 idle connections from
# 127.0.0.2-9 and 256 hosts from 127.0.0.10-11 whose 4 KiB Write waits mid-R2T, reopened when shed so they stay
# present for the whole run); then, in the last B, the helper stops reopening and the target's timeouts must shed
# every one of them: established connections counted per source range by ss every second.

connections_scenario() {
    sanport_ensure_packages --who compare.sh bench || exit 1
    sanport_find_jdk && sanport_build_if_needed
    ulimit -n "$(ulimit -Hn)" # ~4,600 sockets in the helper and as many in the target (Java takes the hard limit)
    local port=14440 nqn=nqn.2026-11.io.sanport:connections idle=4096 stalled=256
    local icreq_ms=10000 data_ms=30000 kato_ms=30000 max_conn=8192
    local load0 t0=$SECONDS
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    trap 'cleanup' EXIT
    local log=/tmp/sanport-connections-target.log helper_out=/tmp/sanport-connections-helper.out
    say "target: sanport export --device ram:$size on 127.0.0.1:$port, --max-connections $max_conn, other limits default (log $log)"
    "$SANPORT_ROOT/sanport" export --device "ram:$size" --port "$port" --discovery-port 0 --nqn "$nqn" \
        --max-connections "$max_conn" --icreq-timeout-ms "$icreq_ms" --data-timeout-ms "$data_ms" >"$log" 2>&1 &
    local target=$!   # the launcher execs java: this is the target's pid
    cleanup_pids+=("$target")
    wait_port "$port"

    established() { # [first-octet-range regex] -> established connections to the target's port, by peer address
        ss -Htn state established "( sport = :$port )" | awk -v re="${1:-.}" '{ split($4, p, ":"); if (p[1] ~ re) n++ } END { print n + 0 }'
    }
    local idle_re='^127\.0\.0\.[2-9]$' stalled_re='^127\.0\.0\.1[01]$'
    rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$target/status"; }
    bench_iops() { # seconds -> IOPS; 0 when the bench failed (its error goes to stderr)
        local out
        out=$("$SANPORT_ROOT/sanport" bench remote -a 127.0.0.1 -s "$port" -n "$nqn" --rw randread --bs 4k --qd 32 \
            --seconds "$1" --ramp 1 --json | tail -1) || true
        if [[ $out =~ \"iops\":([0-9.]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi
    }
    local helper=""
    start_helper() { # idle stalled: starts bench/idle-hosts.py, waits for its "ready" line
        : >"$helper_out"
        python3 "$SANPORT_ROOT/bench/idle-hosts.py" --port "$port" --nqn "$nqn" --idle "$1" --stalled "$2" \
            --kato-ms "$kato_ms" --max-seconds 300 >"$helper_out" &
        helper=$!
        cleanup_pids+=("$helper")
        local i
        for i in $(seq 600); do
            grep -q '^ready' "$helper_out" && { say "helper: $(grep '^ready' "$helper_out")"; return 0; }
            kill -0 "$helper" 2>/dev/null || break
            sleep 0.1
        done
        say "idle-hosts.py did not get ready"; return 1
    }
    stop_helper() { kill -TERM "$helper" 2>/dev/null || true; wait "$helper" 2>/dev/null || true; }
    wait_drained() { local i; for i in $(seq 100); do [ "$(established)" = 0 ] && return 0; sleep 0.1; done; }

    say "warm-up: bench remote 3 s (not counted)"
    bench_iops 3 >/dev/null

    local rss0 rss1 idle_up
    rss0=$(rss_kib)
    start_helper "$idle" 0
    sleep 1
    rss1=$(rss_kib); idle_up=$(established "$idle_re")
    say "RSS: $rss0 KiB before, $rss1 KiB with $idle_up idle connections"
    stop_helper; wait_drained

    local -a alone=() loaded=() ratios=() idle_only=() cpu_alone=() cpu_loaded=()
    local r a b ticks during_idle=0 during_stalled=0 before=0 end_idle end_stalled
    for r in $(seq "$rounds"); do
        ticks=$(proc_ticks "$target"); a=$(bench_iops "$seconds"); alone+=("$a")
        cpu_alone+=("$(per_mio $(( $(proc_ticks "$target") - ticks )) "$a" $((seconds + 1)))")
        say "round $r A (alone): $a IOPS, target CPU ${cpu_alone[-1]} s per million I/Os; load $(loadavg)"
        start_helper "$idle" 0
        b=$(bench_iops "$seconds"); idle_only+=("$b")
        say "round $r B0 (beside $(established "$idle_re") idle connections only): $b IOPS"
        stop_helper; wait_drained
        before=$(established)
        start_helper "$idle" "$stalled"
        during_idle=$(established "$idle_re"); during_stalled=$(established "$stalled_re")
        say "round $r B: $during_idle idle + $during_stalled stalled-host connections established (before: $before)"
        ticks=$(proc_ticks "$target"); b=$(bench_iops "$seconds"); loaded+=("$b")
        cpu_loaded+=("$(per_mio $(( $(proc_ticks "$target") - ticks )) "$b" $((seconds + 1)))")
        end_idle=$(established "$idle_re"); end_stalled=$(established "$stalled_re")
        ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')")
        say "round $r B (with load): $b IOPS, ratio ${ratios[-1]}, target CPU ${cpu_loaded[-1]} s per million I/Os; at its end $end_idle idle + $end_stalled stalled-host connections"
        [ "$r" = "$rounds" ] && break
        stop_helper; wait_drained
    done

    # The last B's connections: nothing reopens them now; only the target's timeouts may end them.
    say "releasing: the helper stops reopening; sampling established connections each second"
    kill -USR1 "$helper"
    local t=0 n_idle n_stalled at_icreq="" at_data="" idle_gone=null stalled_gone=null limit=$(( (data_ms > kato_ms ? data_ms : kato_ms) / 1000 + 15 ))
    local shed_start=$SECONDS
    while [ "$t" -le "$limit" ]; do
        n_idle=$(established "$idle_re"); n_stalled=$(established "$stalled_re")
        [ "$idle_gone" = null ] && [ "$n_idle" = 0 ] && idle_gone=$t
        [ "$stalled_gone" = null ] && [ "$n_stalled" = 0 ] && stalled_gone=$t
        if [ $((t % 5)) = 0 ]; then say "  t=${t}s: $n_idle idle, $n_stalled stalled-host connections"; fi
        [ "$t" = $((icreq_ms / 1000 + 2)) ] && at_icreq="{\"idle\":$n_idle,\"stalled\":$n_stalled}"
        [ "$idle_gone" != null ] && [ "$stalled_gone" != null ] && break
        sleep 1; t=$((SECONDS - shed_start))
    done
    local after_idle after_stalled after_all shed=false
    after_idle=$(established "$idle_re"); after_stalled=$(established "$stalled_re"); after_all=$(established)
    at_data="{\"idle\":$after_idle,\"stalled\":$after_stalled,\"all\":$after_all,\"at_s\":$t}"
    [ "$after_all" = 0 ] && shed=true
    stop_helper
    local helper_json
    helper_json=$(tail -1 "$helper_out")
    kill -0 "$target" 2>/dev/null || { say "the target died: see $log"; exit 1; }
    local rss2; rss2=$(rss_kib)
    say "shed: $shed (idle gone after ${idle_gone} s, stalled after ${stalled_gone} s); target RSS now $rss2 KiB; $((SECONDS - t0)) s in all"

    local stats
    stats=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR] = $1} END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "{\"median\":%.3f,\"min\":%.3f,\"max\":%.3f}", m, v[1], v[NR] }')
    med() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END { printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    printf '{"scenario":"connections","date":"%s","machine":"%s cores, kernel %s","load_avg_start":"%s","load_avg_end":"%s","seconds":%s,"rounds":%s,"target":{"device":"ram:%s","max_connections":%s,"max_connections_per_host":1024,"icreq_timeout_ms":%s,"connect_timeout_ms":10000,"data_timeout_ms":%s},"load":{"idle":%s,"idle_sources":"127.0.0.2-9","stalled_hosts":%s,"stalled_sources":"127.0.0.10-11","stalled_kato_ms":%s},"iops_alone":%s,"iops_with_load":%s,"iops_alone_runs":%s,"iops_with_load_runs":%s,"iops_beside_idle_only_runs":%s,"ratio":%s,"ratio_idle_only_median":%s,"cpu_s_per_mio":{"alone":%s,"with_load":%s,"alone_runs":%s,"with_load_runs":%s,"what":"the target JVM utime+stime from /proc per IOPS x (seconds + 1 s ramp)"},"rss_kib":{"before":%s,"with_idle":%s,"after_shed":%s},"rss_per_idle_kib":%s,"shed":%s,"shed_after_s":{"idle":%s,"stalled":%s},"counts":{"before":%s,"idle_only":%s,"during":{"idle":%s,"stalled":%s},"end_of_run":{"idle":%s,"stalled":%s},"after_icreq_timeout":%s,"after_timeouts":%s},"helper":%s}\n' \
        "$(date -u +%FT%TZ)" "$(nproc)" "$(uname -r)" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" "$seconds" "$rounds" \
        "$size" "$max_conn" "$icreq_ms" "$data_ms" "$idle" "$stalled" "$kato_ms" \
        "$(med "${alone[@]}")" "$(med "${loaded[@]}")" "$(list "${alone[@]}")" "$(list "${loaded[@]}")" "$(list "${idle_only[@]}")" "$stats" \
        "$(awk -v a="$(med "${alone[@]}")" -v b="$(med "${idle_only[@]}")" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')" \
        "$(median "${cpu_alone[@]}")" "$(median "${cpu_loaded[@]}")" "$(list "${cpu_alone[@]}")" "$(list "${cpu_loaded[@]}")" \
        "$rss0" "$rss1" "$rss2" "$(awk -v a="$rss0" -v b="$rss1" -v n="$idle_up" 'BEGIN { printf "%.1f", (n > 0 ? (b - a) / n : 0) }')" \
        "$shed" "$idle_gone" "$stalled_gone" "$before" "$idle_up" "$during_idle" "$during_stalled" "$end_idle" "$end_stalled" \
        "${at_icreq:-null}" "$at_data" "${helper_json:-null}"
}
