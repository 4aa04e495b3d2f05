#!/usr/bin/env bash
# ./sanport rebuilds after a source change in any module. In a scratch copy of this checkout's files (tracked,
# and untracked but not ignored):
# for every module of the parent pom, an edit to one of its main sources (its pom when it has none) must make
# the launcher's staleness check name that file; then one real edit in host-driver must make ./sanport rebuild
# and run. Prints PASS/FAIL per check and "N passed, M failed".
set -uo pipefail
SRC=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sanport-rebuild.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$scratch" -xf -
SANPORT_ROOT=$scratch
. "$scratch/scripts/lib.sh"

pass=0 fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# everything "built" a while ago, every source older than that
old=$(($(date +%s) - 200))
find "$scratch" -type f -exec touch -d "@$old" {} +
mkdir -p "$(dirname "$SANPORT_STAMP")"
touch -d "@$((old + 100))" "$SANPORT_STAMP"
[ -z "$(sanport_stale_source)" ] && ok "nothing is stale right after a build" || bad "stale right after a build: $(sanport_stale_source)"

edit() { # appends a comment in the file's own syntax
    case $1 in
        *.java) echo "// rebuild-watch" >> "$1";;
        *.xml) echo "<!-- rebuild-watch -->" >> "$1";;
        *) echo "# rebuild-watch" >> "$1";;
    esac
}
check_edit() { # check_edit MODULE FILE
    edit "$2"
    local stale
    stale=$(sanport_stale_source)
    if [ "$stale" = "$2" ] && sanport_needs_build; then ok "$1: an edit of ${2#$scratch/} triggers a rebuild"
    else bad "$1: an edit of ${2#$scratch/} is not seen (stale: ${stale:-nothing})"; fi
    touch -d "@$old" "$2"
}
while IFS= read -r m; do
    f=$(find "$scratch/$m/src/main" -type f -name '*.java' 2>/dev/null | sort | head -1)
    [ -n "$f" ] || f=$scratch/$m/pom.xml
    check_edit "$m" "$f"
done < <(sanport_modules)
# the package once named "target", which a prune pattern used to hide
f=$(find "$scratch/host-driver/src/main" -type f -name '*.java' | sort | tail -1)
check_edit "host-driver (last file)" "$f"
check_edit "header list" "$(ls "$scratch"/native-headers/*.bind | head -1)"
check_edit "parent pom" "$scratch/pom.xml"

# one real rebuild: ./sanport notices the edit, builds and runs
f=$(find "$scratch/host-driver/src/main" -type f -name '*.java' | sort | head -1)
edit "$f"
rm -rf "$scratch/cli/target/lib"
if out=$("$scratch/sanport" --version 2>&1) && grep -q 'building' <<<"$out" && [ -f "$SANPORT_STAMP" ] \
        && [ -z "$(sanport_stale_source)" ]; then
    ok "./sanport rebuilt after an edit in host-driver and ran: $(tail -1 <<<"$out")"
else
    bad "./sanport did not rebuild and run after an edit in host-driver: $(tail -5 <<<"$out")"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
