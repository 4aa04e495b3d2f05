#!/usr/bin/env bash
# The README's two commands on a brand-new machine: in a minimal Debian 12 root that has only what a new machine
# of our kind ships (scripts/packages/new-machine.list: Maven, gcc, git, python3; the host's /usr/lib/jvm
# bind-mounted read-only), a clean clone of this checkout runs `./sanport demo --seconds 1` and
# `./test.sh --quick`. Whatever they need beyond that they must install themselves.
#
#   tests/fresh/fresh-machine.sh            run it (root: debootstrap, chroot, mounts)
#   tests/fresh/fresh-machine.sh --rebuild  make the cached root anew first
#   tests/fresh/fresh-machine.sh --prepare  only make sure the cached root is there and current (for
#                                           packaging/test-deb.sh, which installs the .deb into a copy of it)
#
# The pristine root is cached in $SANPORT_FRESH_CACHE (default /var/cache/sanport-fresh; ~1 minute to make,
# remade when missing or when new-machine.list changes); each run writes into an overlay on top of it, thrown
# away afterwards, so every run starts from the same new machine. The Maven repository (~/.m2/repository) is
# shared with the root as a download cache. Everything mounted is unmounted on exit, on failure too.
# A dirty checkout is cloned from HEAD plus its uncommitted changes and its untracked, not ignored files.
# Prints PASS/FAIL per check and "N passed, M failed".
set -euo pipefail
SANPORT_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
. "$SANPORT_ROOT/scripts/lib.sh"
CACHE=${SANPORT_FRESH_CACHE:-/var/cache/sanport-fresh}
BASE=$CACHE/bookworm-minbase
SUITE=bookworm
say() { echo "fresh-machine: $*"; }
rebuild=0 prepare=0
for a in "$@"; do
    case $a in
        --rebuild) rebuild=1;;
        --prepare) prepare=1;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
        *) echo "fresh-machine.sh: unknown option $a" >&2; exit 2;;
    esac
done
[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot, mounts)"; echo "0 passed, 1 failed"; exit 1; }
sanport_ensure_packages --who fresh-machine fresh || { echo "0 passed, 1 failed"; exit 1; }
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C

# the mirror a new machine's apt uses: the host's own source list and apt settings
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9   # two runs never build the base at once

# --- 1. the pristine root (cached) ----------------------------------------------------------------------------
# A new machine of our kind trusts the site's local CAs (/usr/local/share/ca-certificates: the egress proxy's
# among them), so Maven and apt reach their registries over TLS; without them the root could only use what
# ~/.m2 happened to hold.
local_cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${local_cas[0]}" ] || local_cas=()
want_stamp="$SUITE $(sanport_packages new-machine | tr '\n' ' ') cas:$(cat "${local_cas[@]}" /dev/null | sha256sum | cut -c1-16)"
if [ $rebuild = 1 ] || [ "$(cat "$BASE/.sanport-base" 2>/dev/null)" != "$want_stamp" ]; then
    t=$SECONDS
    rm -rf "$BASE.new"
    say "debootstrap --variant=minbase $SUITE (cached in $BASE; about a minute)"
    log=$CACHE/debootstrap.log
    if ! debootstrap --variant=minbase "$SUITE" "$BASE.new" "$mirror" >"$log" 2>&1; then
        tail -20 "$log"; say "FAIL debootstrap (log: $log)"; echo "0 passed, 1 failed"; exit 1
    fi
    cp /etc/resolv.conf /etc/hosts "$BASE.new/etc/"
    [ -f /etc/apt/sources.list.d/debian.sources ] && { rm -f "$BASE.new/etc/apt/sources.list";
        cp /etc/apt/sources.list.d/debian.sources "$BASE.new/etc/apt/sources.list.d/"; }
    cp /etc/apt/apt.conf.d/99* "$BASE.new/etc/apt/apt.conf.d/" 2>/dev/null || true
    if [ ${#local_cas[@]} -gt 0 ]; then
        mkdir -p "$BASE.new/usr/local/share/ca-certificates"
        cp "${local_cas[@]}" "$BASE.new/usr/local/share/ca-certificates/"
    fi
    mount -t proc proc "$BASE.new/proc"
    mapfile -t ship < <(sanport_packages new-machine)
    say "adding what a new machine ships: ${ship[*]}"
    if ! chroot "$BASE.new" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
            sh -c "apt-get -q update && apt-get -q install -y --no-install-recommends ${ship[*]} && update-ca-certificates && apt-get clean" \
            >>"$log" 2>&1; then
        umount "$BASE.new/proc"; tail -20 "$log"; say "FAIL apt-get install in the new root (log: $log)"
        echo "0 passed, 1 failed"; exit 1
    fi
    umount "$BASE.new/proc"
    echo "$want_stamp" > "$BASE.new/.sanport-base"
    rm -rf "$BASE"; mv "$BASE.new" "$BASE"
    say "root ready in $((SECONDS - t)) s"
fi
[ $prepare = 0 ] || { say "the pristine root is $BASE"; exit 0; }

# --- 2. this run's machine: an overlay over the pristine root --------------------------------------------------
run=$(mktemp -d "$CACHE/run.XXXXXX")
root=$run/root
mkdir -p "$run/upper" "$run/work" "$root"
mounts=()
cleanup() {
    local i
    # processes a failed run left inside the root would keep its mounts busy
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
    done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || say "could not unmount ${mounts[$i]}"
    done
    if grep -q " $run" /proc/mounts; then say "still mounted under $run; left in place"; else rm -rf "$run"; fi
}
trap cleanup EXIT
mnt() { # mnt MOUNT-ARGS... TARGET: mounts and remembers it for cleanup
    mount "$@"; mounts+=("${!#}")
}
mnt -t overlay overlay -o "lowerdir=$BASE,upperdir=$run/upper,workdir=$run/work" "$root"
mnt -t proc proc "$root/proc"
mnt -t sysfs sysfs "$root/sys"
mnt --bind /dev "$root/dev"          # loop devices and /dev/shm for the loop-device tests
mnt --bind /dev/pts "$root/dev/pts"
mkdir -p "$root/usr/lib/jvm" "$root/root/.m2/repository" "$root/tmp"
mnt --bind /usr/lib/jvm "$root/usr/lib/jvm"
mount -o remount,bind,ro "$root/usr/lib/jvm"
m2=${SANPORT_FRESH_M2:-$HOME/.m2/repository}   # SANPORT_FRESH_M2=$(mktemp -d): a cold cache, all from Central
mkdir -p "$m2"
mnt --bind "$m2" "$root/root/.m2/repository"   # a download cache, nothing more

# a clean clone, with the checkout's uncommitted changes to tracked files
mkdir -p "$root/work"
git clone -q "$SANPORT_ROOT" "$root/work/sanport"
if ! git -C "$SANPORT_ROOT" diff --quiet HEAD || [ -n "$(git -C "$SANPORT_ROOT" ls-files --others --exclude-standard)" ]; then
    say "the checkout has uncommitted changes: applied to the clone"
    git -C "$SANPORT_ROOT" diff HEAD --binary | git -C "$root/work/sanport" apply --whitespace=nowarn
    (cd "$SANPORT_ROOT" && git ls-files -z --others --exclude-standard | tar --null -T - -cf -) | tar -C "$root/work/sanport" -xf -
fi
say "clone of $(git -C "$SANPORT_ROOT" rev-parse --short HEAD) in $root/work/sanport; JDKs: $(ls /usr/lib/jvm | tr '\n' ' ')"

# --- 3. the README's commands, as a new user types them ------------------------------------------------------
pass=0 fail=0
inside() { # inside COMMAND: runs a shell command in the new machine's clone, with a login-like environment
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI="${CI:-}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        bash -c "cd /work/sanport && $1"
}
check() { # check NAME COMMAND
    local t=$SECONDS
    say "--- $1"
    if inside "$2" 2>&1 | tee -a "$run/checks.log" | sed 's/^/    /'; [ "${PIPESTATUS[0]}" = 0 ]; then
        echo "PASS $1 ($((SECONDS - t)) s)"; pass=$((pass + 1))
    else
        echo "FAIL $1 ($((SECONDS - t)) s)"; fail=$((fail + 1))
    fi
}
check "the new machine lacks what sanport needs at run time (so the next check proves the launcher installs it)" \
    "! dpkg-query -W -f='\${db:Status-Status}\n' $(sanport_packages runtime | tr '\n' ' ') 2>/dev/null | grep -qx installed"
check "java on PATH is not the JDK sanport needs (a new machine has JDK 17)" \
    "! java -version 2>&1 | grep -q 'version \"2[2-9]'"
check "as another user, ./sanport installs nothing and prints the one command that would" \
    "out=\$(setpriv --reuid=65534 --regid=65534 --clear-groups ./sanport info 2>&1); rc=\$?; echo \"\$out\";
     [ \$rc != 0 ] && grep -q 'install them with:  sudo apt-get install -y --no-install-recommends liburing2' <<<\"\$out\""
check "./sanport demo --seconds 1" "./sanport demo --seconds 1"
check "./test.sh --quick" "./test.sh --quick"
if [ "$fail" != 0 ]; then
    # what the failures said was missing, in one line (every check names the Debian package it lacked)
    missing=$({ grep -oE "(is|install) Debian's [a-z0-9.+-]+" "$run/checks.log" | awk '{print $3}'
                grep -oE "missing Debian packages[^:]*: [a-z0-9 .+-]+" "$run/checks.log" | sed 's/.*: //' | tr ' ' '\n'
              } | sed '/^$/d' | sort -u | tr '\n' ' ')
    [ -n "$missing" ] && say "the new machine lacked: $missing"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
