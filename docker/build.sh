#!/usr/bin/env bash
# Builds the image sanport:dev from this checkout with no base image and no registry:
#   a FROM scratch image holding the layout of the Debian package (packaging/stage-layout.sh: a jlinked Java
#   runtime in /usr/lib/sanport/java, the jars of cli/target/lib in /usr/lib/sanport/lib), and the shared
#   libraries they load (glibc, liburing; libibverbs, librdmacm, libnl and the rxe/siw providers for RDMA),
#   copied from this machine as ldd lists them.
#
#   docker/build.sh                 build the project if needed, stage, docker build, print the image size
#   IMAGE=name:tag docker/build.sh  another tag (default sanport:dev)
#   RDMA_PROVIDERS="rxe siw mlx5"   the libibverbs providers to include (default: rxe siw)
#   SKIP_BUILD=1                    use cli/target/lib as it is (no Maven)
#   docker/build.sh --rootfs DIR    only stage the image's root file system into DIR (no Docker engine needed)
#
# Needs: a JDK >= 22 (jlink, jdeps), Maven, the Debian packages liburing2, libibverbs1, librdmacm1 (for RDMA:
# ibverbs-providers), a Docker engine. Never pulls: the Dockerfile starts FROM scratch.
set -euo pipefail
DOCKER_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
SANPORT_ROOT=$(dirname "$DOCKER_DIR")
. "$SANPORT_ROOT/scripts/lib.sh"

IMAGE=${IMAGE:-sanport:dev}
RDMA_PROVIDERS=${RDMA_PROVIDERS:-rxe siw}
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
say() { echo "docker/build.sh: $*"; }

rootfs_only=""
case "${1:-}" in
    --rootfs) [ -n "${2:-}" ] || { say "--rootfs needs a directory"; exit 2; }; rootfs_only=$2;;
    "") ;;
    *) say "unknown option $1"; exit 2;;
esac
if [ -z "$rootfs_only" ]; then
    command -v docker >/dev/null || { say "no docker command: apt-get install docker.io"; exit 1; }
    docker info >/dev/null 2>&1 || { say "the Docker engine does not answer (start dockerd)"; exit 1; }
    CONTEXT=$(mktemp -d "${TMPDIR:-/tmp}/sanport-docker.XXXXXX")
    trap 'rm -rf "$CONTEXT"' EXIT
    ROOT=$CONTEXT/rootfs
else
    ROOT=$rootfs_only
fi
# 1. the layout the Debian package installs too (packaging/stage-layout.sh builds the project if sources changed):
# the jars in /usr/lib/sanport/lib, a jlinked runtime in /usr/lib/sanport/java
"$SANPORT_ROOT/packaging/stage-layout.sh" "$ROOT"
RUNTIME=$ROOT/usr/lib/sanport/java
mkdir -p "$ROOT/tmp" "$ROOT/data" "$ROOT/etc" "$ROOT/root"
chmod 1777 "$ROOT/tmp"

# 2. shared libraries: what ldd says the runtime and the dlopen'ed libraries need, plus the loader, each
# at the path it has here (LD_LIBRARY_PATH in the image covers the multiarch directories).
sanport_ensure_packages --who docker/build.sh runtime || exit 1
libs=("liburing.so.2" "libibverbs.so.1" "librdmacm.so.1")
dlopened=()
for l in "${libs[@]}"; do
    # no early exit in awk: ldconfig would die of SIGPIPE and, with pipefail, end this script silently
    p=$(ldconfig -p | awk -v l="$l" '$1 == l && /x86-64/ && !found {print $NF; found = 1}')
    [ -n "$p" ] || { say "$l is not installed here (apt-get install liburing2 libibverbs1 librdmacm1)"; exit 1; }
    dlopened+=("$p")
done
providers=()
mkdir -p "$ROOT/etc/libibverbs.d"
for pr in $RDMA_PROVIDERS; do
    so=$(ls /usr/lib/"$MULTIARCH"/libibverbs/lib"$pr"-rdmav*.so 2>/dev/null | head -1 || true)
    if [ -z "$so" ]; then say "RDMA provider $pr not found (apt-get install ibverbs-providers): skipped"; continue; fi
    providers+=("$so")
    [ -f /etc/libibverbs.d/"$pr".driver ] && cp /etc/libibverbs.d/"$pr".driver "$ROOT/etc/libibverbs.d/"
done
copy_file() { # copies a file and, when it is a symlink, what it points to, keeping the paths
    local f=$1
    [ -e "$ROOT$f" ] && return 0
    mkdir -p "$ROOT$(dirname "$f")"
    cp -a "$f" "$ROOT$f"
    if [ -L "$f" ]; then
        local t
        t=$(readlink -f "$f")
        copy_file "$t"
    fi
}
# Debian 12 (merged /usr) links /lib -> usr/lib and /lib64 -> usr/lib64: the same links in the image, first,
# so a library named through either path lands once
for d in /lib /lib64 /lib32 /libx32; do
    if [ -L "$d" ]; then mkdir -p "$ROOT/usr/$(basename "$d")"; ln -s "$(readlink "$d")" "$ROOT$d"; fi
done
elfs=("$RUNTIME"/bin/java "$RUNTIME"/lib/*.so "$RUNTIME"/lib/server/libjvm.so "${dlopened[@]}" "${providers[@]}")
for f in "${dlopened[@]}" "${providers[@]}"; do copy_file "$f"; done
needed=$(for e in "${elfs[@]}"; do LD_LIBRARY_PATH="$RUNTIME/lib:$RUNTIME/lib/server" ldd "$e" 2>/dev/null; done \
    | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | grep -v "^$ROOT" | sort -u)
for f in $needed; do copy_file "$f"; done
# the loader, at the path every binary names
interp=$(readelf -l "$RUNTIME/bin/java" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
copy_file "$interp"
# C.UTF-8 (400 KiB), so Java prints and names files in UTF-8 (LANG in the Dockerfile)
if [ -d /usr/lib/locale/C.utf8 ]; then mkdir -p "$ROOT/usr/lib/locale"; cp -a /usr/lib/locale/C.utf8 "$ROOT/usr/lib/locale/"; fi
printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
say "shared libraries: $(echo "$needed" "${dlopened[@]}" "${providers[@]}" | tr ' ' '\n' | sort -u | xargs -n1 basename | tr '\n' ' ')"

[ -z "$rootfs_only" ] || { say "root file system staged in $ROOT ($(du -sh "$ROOT" | cut -f1))"; exit 0; }

# 3. the image
cp "$DOCKER_DIR/Dockerfile" "$CONTEXT/Dockerfile"
say "docker build -t $IMAGE (FROM scratch, context $(du -sh "$CONTEXT" | cut -f1))"
docker build --pull=false -t "$IMAGE" \
    --label "io.sanport.revision=$(git -C "$SANPORT_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "$CONTEXT" >"$CONTEXT.build.log" 2>&1 || { cat "$CONTEXT.build.log"; rm -f "$CONTEXT.build.log"; exit 1; }
rm -f "$CONTEXT.build.log"
size=$(docker image inspect "$IMAGE" --format '{{.Size}}')
say "built $IMAGE: $((size / 1024 / 1024)) MiB ($size bytes)"
say "smoke: $(docker run --rm "$IMAGE" --version)"
