#!/bin/bash
# run.sh - run one shell command as root inside a throw-away QEMU guest that
# boots Debian's 6.1 kernel and sees this machine's filesystem at the same
# paths (9p). For tests that need what this machine's kernel lacks: RDMA
# (SoftRoCE), NVMe, the kernel's NVMe-oF target and initiator.
#
# usage: run.sh [options] -- 'shell command'
#   --kernel 6.1|6.12  6.1 (default): Debian 12's kernel, the guest's root is this
#                    machine's. 6.12: Debian 13's kernel (NVMe auth, NVMe/TCP TLS)
#                    on a Debian 13 root (prepare-612.sh) that sees this
#                    machine's /usr/lib/jvm (read-only), the checkout, ~/.m2,
#                    /tmp and --show dirs (writes discarded); tlshd running
#   --show DIR       (6.12) also show host directory DIR, writes discarded (repeatable)
#   --rdma           SoftRoCE: rxe0 on dummy netdev sanport0, 169.254.77.1/16
#   --nvme IMG       attach raw file IMG as an emulated NVMe disk (/dev/nvme0n1, /dev/ng0n1)
#   --nvme-opts O    extra properties of that QEMU nvme device, e.g. mdts=4 (64 KiB transfers)
#   --timeout SEC    kill the guest after SEC seconds in all, exit 124 (default 1800)
#   --mem MB         guest memory (default 4096)
#   --env K=V        extra environment variable for the command (repeatable)
#   --rw DIR         also write DIR through to the host (repeatable); the
#                    working directory always is. Other writes land in a tmpfs
#                    overlay that is discarded (e.g. ~/.m2: use --rw ~/.m2).
#   -v, --verbose    guest setup steps with timestamps and the kernel console on stderr
# Exit code: the command's; 124 timeout; 125 the harness or guest setup failed.
# Environment: SANPORT_VM_CACHE (see prepare.sh), SANPORT_VM_ACCEL=kvm|tcg.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SANPORT_VM_CACHE:-/var/cache/sanport-vm}
RDMA=0 NVME='' NVME_OPTS='' TIMEOUT=1800 MEM=4096 VERBOSE=0 XENV=() RW=() SERIES=6.1 SHOW=()
usage() { sed -n '/^# usage/,/^# Environment/s/^# \{0,1\}//p' "$0" >&2; exit 125; }
err() { echo "run.sh: $*" >&2; exit 125; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rdma) RDMA=1; shift ;;
    --kernel) case "${2:-}" in 6.1|6.12) SERIES=$2 ;; *) err "--kernel takes 6.1 or 6.12" ;; esac; shift 2 ;;
    --show) [ -d "${2:-}" ] || err "--show: no such directory '${2:-}'"; SHOW+=("$(realpath "$2")"); shift 2 ;;
    --nvme) [ -f "${2:-}" ] || err "--nvme: no such file '${2:-}'"; NVME=$(realpath "$2"); shift 2 ;;
    --nvme-opts) [[ "${2:-}" =~ ^[a-z_]+=[0-9a-z]+(,[a-z_]+=[0-9a-z]+)*$ ]] || err "--nvme-opts wants K=V[,K=V]"
                 NVME_OPTS=,$2; shift 2 ;;
    --timeout) TIMEOUT=${2:-}; shift 2 ;;
    --mem) MEM=${2:-}; shift 2 ;;
    --env) [[ "${2:-}" == [A-Za-z_]*=* ]] || err "--env wants K=V"; XENV+=("$2"); shift 2 ;;
    --rw) RW+=("$(realpath -m "${2:-}")"); shift 2 ;;
    -v|--verbose) VERBOSE=1; shift ;;
    -h|--help) usage ;;
    --) shift; break ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage ;;
  esac
done
[ $# -gt 0 ] || usage
[[ "$TIMEOUT" =~ ^[0-9]+$ && "$MEM" =~ ^[0-9]+$ ]] || err "--timeout and --mem take integers"

# Prepared? The stamp names the kernel; its hash covers what went into the
# initramfs (same formula as prepare.sh). Missing or stale: prepare now.
if [ "$SERIES" = 6.1 ]; then
  [ ${#SHOW[@]} = 0 ] || err "--show is for --kernel 6.12 (the 6.1 guest sees all of this machine)"
  STAMP=$(cat "$CACHE/stamp" 2>/dev/null)
  if [ "${STAMP#* }" != "$(cat "$HERE/prepare.sh" "$HERE/guest/init" /bin/busybox 2>/dev/null | sha256sum | cut -c1-16)" ]; then
    "$HERE/prepare.sh" >&2 || err "prepare.sh failed"
    STAMP=$(cat "$CACHE/stamp")
  fi
  KVER=${STAMP%% *}
  KERNEL=$CACHE/kernel/$KVER/boot/vmlinux-$KVER
  INITRD=$CACHE/initramfs-$KVER.cpio
  MODS=$CACHE/kernel/$KVER/lib/modules/$KVER
  ROOT=
else
  # same formula as prepare-612.sh
  D=$CACHE/612 LISTS=$(cd "$HERE/../../scripts/packages" && pwd)
  STAMP=$(cat "$D/stamp" 2>/dev/null)
  if [ "${STAMP#* }" != "$(cat "$HERE/prepare-612.sh" "$HERE/guest/init" /bin/busybox "$LISTS/vm612-guest.list" \
                            "$LISTS/runtime.list" 2>/dev/null | sha256sum | cut -c1-16)" ]; then
    "$HERE/prepare.sh" --kernel 6.12 >&2 || err "prepare.sh --kernel 6.12 failed"
    STAMP=$(cat "$D/stamp")
  fi
  KVER=${STAMP%% *}
  KERNEL=$D/kernel/$KVER/boot/vmlinux-$KVER
  INITRD=$D/initramfs-$KVER.cpio
  MODS=$D/kernel/$KVER/usr/lib/modules/$KVER
  ROOT=$D/root
fi
[ -s "$KERNEL" ] && [ -s "$INITRD" ] || err "cache $CACHE incomplete: run $HERE/prepare.sh"

CWD=$(pwd -P)
# paths travel on the kernel command line and in KEY=VALUE files
for p in "$CWD" "$CACHE" "$HERE" "${RW[@]}" "${SHOW[@]}"; do [[ "$p" != *[[:space:]]* ]] || err "path with white space: '$p'"; done

# Hardware virtualization only with a real KVM (kvm_intel/kvm_amd): a /dev/kvm
# from kvm_pvm (as on this project's machines) opens fine but cannot run a
# stock kernel - QEMU would sit silent until the timeout.
ACCEL=${SANPORT_VM_ACCEL:-}
if [ -z "$ACCEL" ]; then
  ACCEL=tcg
  [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && ACCEL=kvm
fi
if [ "$ACCEL" = kvm ]; then
  MACH=(-accel kvm -cpu host)
else
  # 2 vCPUs with multi-threaded TCG: 1 vCPU makes the emulated NVMe time out
  # and busy-polling peers crawl. -cpu max: AVX2, RDRAND (no entropy wait).
  MACH=(-accel tcg,thread=multi -cpu max)
fi

mkdir -p "$CACHE/runs" || err "cannot create $CACHE/runs"
# run dirs of runs that were SIGKILLed (no cleanup) - older than a day
find "$CACHE/runs" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rm -rf {} + 2>/dev/null
RUN=$(mktemp -d "$CACHE/runs/r.XXXXXX") || err "mktemp in $CACHE/runs"
QPID='' CATS=()
cleanup() {   # on any exit, also ^C: QEMU must not outlive us
  if [ -n "$QPID" ]; then
    kill "$QPID" 2>/dev/null            # timeout(1) passes SIGTERM on to QEMU
    sleep 0.5
    q=$(cat "$RUN/qemu.pid" 2>/dev/null)
    [ -n "$q" ] && [ "$(cat /proc/$q/comm 2>/dev/null)" = qemu-system-x86 ] && kill -9 "$q"
  fi
  [ ${#CATS[@]} -gt 0 ] && kill "${CATS[@]}" 2>/dev/null
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

printf '%s\n' "$*" > "$RUN/cmd"
# written through: the working directory and the extra --rw directories
for p in "$CWD" "${RW[@]}"; do [ "$p" = / ] || { mkdir -p "$p" && echo "$p"; }; done > "$RUN/rw"
if [ -n "$ROOT" ]; then
  # what the Debian 13 root shows of this machine; parents first (sort), a
  # directory inside one already shown is not shown again
  { echo "ro /usr/lib/jvm"
    # what the JDKs link to outside (Temurin's lib/security/cacerts -> /etc/ssl/certs/adoptium/)
    find /usr/lib/jvm/ -type l -lname '/*' -printf '%l\n' 2>/dev/null | grep -v '^/usr/lib/jvm/' \
      | while read -r t; do [ -e "$t" ] && echo "ro $(dirname "$(realpath "$t")")"; done
    for p in "$(cd "$HERE/../.." && pwd -P)" "$HOME/.m2" /tmp "${SHOW[@]}"; do
      [ -d "$p" ] && echo "ovl $(realpath "$p")"
    done
  } | sort -k2 -u | awk '{ for (i = 1; i <= n; i++) if (index($2 "/", k[i] "/") == 1) next; k[++n] = $2; print }' > "$RUN/show"
fi
cat > "$RUN/conf" <<EOF
STAGE2=$HERE/guest/stage2
MODS=$MODS
ROOT=$ROOT
SERIES=$SERIES
HOSTNAME=$(cat /proc/sys/kernel/hostname)
CWD=$CWD
RDMA=$RDMA
VERBOSE=$VERBOSE
NOFILE=$(ulimit -Hn)
EOF
{
  for v in PATH HOME USER LANG LC_ALL TZ JAVA_HOME JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS \
           MAVEN_OPTS MAVEN_ARGS MAVEN_HOME M2_HOME GRADLE_OPTS CI GITHUB_ACTIONS \
           $(compgen -e | grep '^SANPORT_' | grep -v '^SANPORT_VM_'); do
    [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
  done
  echo "export TERM=dumb SANPORT_VM_GUEST=1"
  for e in "${XENV[@]}"; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
  # Under TCG, tiered HotSpot (C1+C2) crashed in 9 of 51 runs with 2 vCPUs
  # (SIGSEGV at a just-patched nmethod entry: TCG's cross-modifying code
  # race); C1 only never crashed in >100 runs and starts short JVMs ~2x faster.
  # Prepended last, so that no --env can drop it by accident.
  [ "$ACCEL" = tcg ] && echo 'export JAVA_TOOL_OPTIONS="-XX:TieredStopAtLevel=1${JAVA_TOOL_OPTIONS:+ $JAVA_TOOL_OPTIONS}"'
} > "$RUN/env"

# stdout/stderr of the command come over two virtio serial ports. QEMU writes
# them into FIFOs that two cats copy to ours: had QEMU open /dev/fd/1 itself,
# its second file offset would overwrite our output when stdout is a file.
# If our stdout goes away (| head), keep draining: a FIFO without a reader
# would stall the guest's port until the timeout.
mkfifo "$RUN/out" "$RUN/err"
(trap '' PIPE; cat 2> /dev/null || cat > /dev/null) < "$RUN/out" & CATS+=($!)
(trap '' PIPE; cat >&2 2> /dev/null || cat > /dev/null) < "$RUN/err" & CATS+=($!)
CONSOLE=$RUN/console.log
[ $VERBOSE = 1 ] && CONSOLE=$RUN/err
LOGLEVEL=4; [ $VERBOSE = 1 ] && LOGLEVEL=6
QEMU=(qemu-system-x86_64 -M q35 "${MACH[@]}" -smp 2 -m "$MEM"
  -nodefaults -no-user-config -display none -vga none -no-reboot -nic none -pidfile "$RUN/qemu.pid"
  -kernel "$KERNEL" -initrd "$INITRD"
  # mitigations=off: PTI/retpolines are costly under TCG; tsc=reliable keeps
  # the TSC clocksource (vDSO clock_gettime); panic=-1 + -no-reboot: a guest
  # panic ends QEMU instead of hanging until the timeout
  -append "console=ttyS0 quiet loglevel=$LOGLEVEL panic=-1 mitigations=off tsc=reliable rdinit=/init sanport.run=$RUN"
  -chardev "file,id=con,path=$CONSOLE" -serial chardev:con
  -fsdev "local,id=fs0,path=/,security_model=passthrough,multidevs=remap"
  -device virtio-9p-pci,fsdev=fs0,mount_tag=hostroot
  -fsdev "local,id=fs1,path=/,security_model=passthrough,multidevs=remap"
  -device virtio-9p-pci,fsdev=fs1,mount_tag=hostrw
  -device virtio-serial-pci,id=vser
  -chardev "file,id=out,path=$RUN/out" -device virtserialport,bus=vser.0,chardev=out,name=sanport.out
  -chardev "file,id=err,path=$RUN/err" -device virtserialport,bus=vser.0,chardev=err,name=sanport.err)
[ -n "$NVME" ] && QEMU+=(-drive "file=$NVME,if=none,id=nvm,format=raw,cache=none,aio=io_uring"
                         -device "nvme,serial=sanport0001,drive=nvm$NVME_OPTS")

# -k: SIGKILL if QEMU ignores SIGTERM; TIMEOUT covers boot + command + poweroff
timeout -k 3 "$TIMEOUT" "${QEMU[@]}" < /dev/null 2> "$RUN/qemu.log" &
QPID=$!
wait $QPID; QRC=$?
QPID=
# EOF for a cat whose FIFO QEMU never opened (it died early): open and close
# the write side ourselves (read-write open never blocks on a FIFO)
exec 7<> "$RUN/out" 8<> "$RUN/err"; exec 7>&- 8>&-
wait "${CATS[@]}" 2>/dev/null; CATS=()

if [ -s "$RUN/rc" ]; then
  RC=$(< "$RUN/rc")
elif [ $QRC = 124 ] || [ $QRC = 137 ]; then
  echo "run.sh: timeout after ${TIMEOUT}s, guest killed" >&2; RC=124
else
  echo "run.sh: guest ended without an exit code (qemu rc=$QRC)" >&2; RC=125
fi
if [ "$RC" = 125 ] || [ "$RC" = 124 ]; then
  [ -s "$RUN/qemu.log" ] && sed 's/^/qemu: /' "$RUN/qemu.log" >&2
  # the kernel's verdict (panic, Oops, our init's FATAL) and what came last
  [ -f "$RUN/console.log" ] && { grep -m 5 -E 'Kernel panic|BUG|Oops|FATAL' "$RUN/console.log"
    tail -n 10 "$RUN/console.log"; } | awk '!seen[$0]++ {print "guest console: " $0}' >&2
fi
exit "$RC"
