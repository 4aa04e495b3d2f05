#!/usr/bin/env bash
# JMH microbenchmarks of hot-path changes whose effect the end-to-end numbers cannot resolve (module jmh/): each
# old way ("was...") beside the new way ("now...") where the old one can be rebuilt.
#   bench/jmh.sh [JMH args]     runs them (all, or those JMH's arguments select) and prints JMH's table, e.g.
#                               bench/jmh.sh -f 1 -wi 3 -i 5 -r 1s -prof gc      bench/jmh.sh NsidLookup
#   bench/jmh.sh --check-alloc  the zero-allocation check (about 25 s): every "now" benchmark, briefly, under
#                               JMH's GC profiler; fails (exit 1, naming it) when one allocates more than
#                               ALLOC_BOUND bytes per operation, or when the canary (16 bytes per operation on
#                               purpose) is not seen allocating. Prints "N passed, M failed".
# Builds the module first (offline once the dependencies are cached) when its classes are missing or older than a
# main source of the modules it measures.
set -euo pipefail
SANPORT_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$SANPORT_ROOT"
. scripts/lib.sh

# Bytes per operation the check allows. An object takes at least 16 bytes, so a hot path allocating one every
# 16 operations or more often shows above 1 B/op; JMH's own allocation (iteration bookkeeping) spread over
# millions of operations stays far below it.
ALLOC_BOUND=${ALLOC_BOUND:-1}

sanport_find_jdk
list=jmh/target/classes/META-INF/BenchmarkList
# what the launcher's rebuild check looks at (every module's main sources and pom, the .bind lists), against the list
stale=$(SANPORT_STAMP=$list sanport_stale_source)
if [ ! -f "$list" ] || [ -n "$stale" ] || [ ! -d jmh/target/lib ]; then
    echo "jmh.sh: building the jmh module${stale:+ ($stale changed)}..." >&2
    command -v mvn >/dev/null || sanport_ensure_packages buildtool || exit 1
    log=$(mktemp "${TMPDIR:-/tmp}/sanport-jmh-build.XXXXXX.log")
    if ! mvn -B -q -pl jmh -am package -DskipTests >"$log" 2>&1; then
        echo "jmh.sh: the build failed; its log ($log):" >&2
        grep -v 'sun.misc.Unsafe\|WARNING: .*Unsafe\|^WARNING: Please consider' "$log" | tail -60 >&2
        exit 1
    fi
    rm -f "$log"
    touch "$list" # javac may leave the processor's output as it was when no benchmark changed
fi
cp="jmh/target/classes:jmh/target/lib/*"
# JMH 1.37 reads field offsets through sun.misc.Unsafe: allowed, so the JDK does not warn in every fork
jmh() { "$JAVA_HOME/bin/java" --sun-misc-unsafe-memory-access=allow -cp "$cp" org.openjdk.jmh.Main "$@"; }

if [ "${1:-}" != --check-alloc ]; then
    jmh "$@"
    exit
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/sanport-jmh.XXXXXX")
trap 'rm -rf "$out"' EXIT
# The benchmarks the check must see: every "now" one (JMH's list, the same selection), each a row of the results.
now_regex='\.now[A-Z]'
jmh -l "$now_regex" >"$out/list" 2>&1 || { cat "$out/list"; echo "jmh.sh: JMH could not list the benchmarks"; exit 1; }
# warm-up long enough for C2 (escape analysis decides whether an allocation stays), one measured second; -foe:
# without it a benchmark that throws (setup, body or teardown) only loses its row and JMH still exits 0
if ! jmh "$now_regex" 'AllocCanaryBench' -foe true -f 1 -wi 2 -w 1s -i 1 -r 1s -prof gc -rf json -rff "$out/r.json" \
        >"$out/log" 2>&1; then
    tail -40 "$out/log"
    echo "jmh.sh: JMH failed"
    echo "0 passed, 1 failed"
    exit 1
fi
python3 - "$out/r.json" "$ALLOC_BOUND" "$out/list" <<'PY'
import json, sys
results, bound = json.load(open(sys.argv[1])), float(sys.argv[2])
# `jmh -l` prints a header line, then one benchmark (fully qualified) per line
expected = {l.strip() for l in open(sys.argv[3]) if l.strip().startswith("io.sanport.")}
passed = failed = 0
canary = False
now = 0
seen = set()
for r in results:
    seen.add(r["benchmark"])
    name = r["benchmark"].removeprefix("io.sanport.")
    if r.get("params"):
        name += " " + ",".join(f"{k}={v}" for k, v in sorted(r["params"].items()))
    m = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
    if m is None:
        print(f"FAIL {name}: no gc.alloc.rate.norm (was -prof gc applied?)"); failed += 1; continue
    b = m["score"]
    if name.endswith("AllocCanaryBench.allocates"):
        canary = True
        ok = b >= 16
        print(f"{'PASS' if ok else 'FAIL'} canary {name}: {b:.3f} B/op (must be seen allocating, >= 16)")
    else:
        now += 1
        ok = b <= bound
        print(f"{'PASS' if ok else 'FAIL'} {name}: {b:.3f} B/op (bound {bound:g})")
    passed += ok; failed += not ok
if not canary:
    print("FAIL the canary benchmark did not run"); failed += 1
if now == 0:
    print("FAIL no \"now\" benchmark ran"); failed += 1
for b in sorted(expected - seen):
    print(f"FAIL {b.removeprefix('io.sanport.')}: no result (it threw, or did not run)"); failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
