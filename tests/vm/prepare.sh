#!/bin/bash
# prepare.sh - get everything tests/vm/run.sh needs to boot a throw-away guest:
# Debian's stock 6.1 kernel (RDMA, NVMe and NVMe-oF are all modules there)
# under QEMU, seeing this machine's root filesystem over virtio-9p.
#
# Idempotent and cached: prints one line per step it performs and nothing when
# everything is in place. Debian packages only:
#   1. apt-get installs the host tools that are missing (the guest runs the
#      host's own binaries through 9p, so fio, nvme, rping... live here);
#   2. apt-get downloads linux-image-<abi>-amd64-unsigned and unpacks it with
#      dpkg -x into the cache - it is never installed into this machine's /boot;
#   3. depmod on the unpacked tree, extracts the uncompressed vmlinux;
#   4. builds an uncompressed initramfs (static busybox + the modules needed to
#      reach the host root + guest/init).
# A stamp (kernel version + hash of this script, guest/init and busybox)
# decides whether step 4 has to be redone.
#
# Environment:
#   SANPORT_VM_CACHE   cache dir (default /var/cache/sanport-vm, outside the tree)
#   SANPORT_VM_KERNEL  kernel package to use, e.g. linux-image-6.1.0-56-amd64
#                      (default: what linux-image-amd64 depends on)
#
# `prepare.sh --kernel 6.12` prepares the second guest instead (Debian 13's
# 6.12 kernel and root): see prepare-612.sh. `--kernel 6.1` is the default.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
case "${1:-}" in
  --kernel) case "${2:-}" in 6.1) ;; 6.12) exec "$HERE/prepare-612.sh" ;; *) echo "prepare: --kernel takes 6.1 or 6.12" >&2; exit 2 ;; esac ;;
  "") ;;
  *) echo "prepare: usage: prepare.sh [--kernel 6.1|6.12]" >&2; exit 2 ;;
esac
CACHE=${SANPORT_VM_CACHE:-/var/cache/sanport-vm}
# the host tools: scripts/packages/vm.list
SANPORT_ROOT=$(cd "$HERE/../.." && pwd)
. "$SANPORT_ROOT/scripts/lib.sh"
mapfile -t PKGS < <(sanport_packages vm)
# needed before the host root is reachable, i.e. inside the initramfs
EARLY_MODS=(virtio_pci 9pnet_virtio 9p overlay virtio_console configfs)
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C DEBIAN_FRONTEND=noninteractive
APT=(apt-get -q -o DPkg::Lock::Timeout=600 -o APT::Sandbox::User=root)

step() { echo "prepare: $*"; }
die() { echo "prepare: ERROR: $*" >&2; exit 1; }
LOG=$(mktemp); trap 'rm -f "$LOG"' EXIT
# apt is chatty: keep its output unless it fails
quiet() { "$@" > "$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "failed: $*"; }; }
UPDATED=0
apt_update() { [ $UPDATED = 1 ] && return; step "apt-get update"; quiet "${APT[@]}" update; UPDATED=1; }

mkdir -p "$CACHE/debs"
# two runs preparing at once (parallel CI jobs) must not build over each other
exec 9> "$CACHE/.lock"
flock 9

# --- 1. host packages ---------------------------------------------------------
missing=()
for p in "${PKGS[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt_update
  step "apt-get install ${missing[*]}"
  quiet "${APT[@]}" install -y --no-install-recommends "${missing[@]}"
fi

# --- 2. kernel package ----------------------------------------------------------
resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ && !f {print $2; f = 1}'; }
KPKG=${SANPORT_VM_KERNEL:-$(resolve)}
if [ -z "$KPKG" ]; then apt_update; KPKG=$(resolve); fi   # empty apt lists (fresh container)
[ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 to a kernel package"
KPKG=${KPKG%-unsigned}
KVER=${KPKG#linux-image-}                                   # e.g. 6.1.0-56-amd64
KROOT=$CACHE/kernel/$KVER
if [ ! -f "$KROOT/boot/vmlinuz-$KVER" ]; then
  debs=("$CACHE"/debs/"$KPKG"-unsigned_*.deb)
  if [ ! -f "${debs[-1]}" ]; then
    step "apt-get download $KPKG-unsigned"
    # a stale package list names a .deb the mirror no longer has: update once, retry
    (cd "$CACHE/debs" && "${APT[@]}" download "$KPKG-unsigned") > "$LOG" 2>&1 \
      || { apt_update; (cd "$CACHE/debs" && quiet "${APT[@]}" download "$KPKG-unsigned"); }
    debs=("$CACHE"/debs/"$KPKG"-unsigned_*.deb)
    [ -f "${debs[-1]}" ] || die "download of $KPKG-unsigned produced no .deb"
  fi
  step "unpack $(basename "${debs[-1]}") (dpkg -x, not installed)"
  rm -rf "$KROOT.tmp" && mkdir -p "$KROOT.tmp"
  dpkg -x "${debs[-1]}" "$KROOT.tmp"
  rm -rf "$KROOT" && mv "$KROOT.tmp" "$KROOT"
fi
# the .deb ships no modules.dep: the postinst of a real install would create it
if [ ! -s "$KROOT/lib/modules/$KVER/modules.dep" ]; then
  step "depmod $KVER"
  depmod -b "$KROOT" "$KVER"
fi

# --- 3. uncompressed vmlinux --------------------------------------------------
# QEMU boots an ELF vmlinux through its PVH entry; the guest then skips
# decompressing the bzImage, which costs ~3 s under TCG.
VMLINUX=$KROOT/boot/vmlinux-$KVER
if [ ! -s "$VMLINUX" ]; then
  step "extract vmlinux"
  BZ=$KROOT/boot/vmlinuz-$KVER
  # offset of the xz stream (magic FD 37 7A 58 5A 00); no pipes into head here,
  # SIGPIPE would fail the pipeline under pipefail
  off=$(grep -aobUP -m1 '\xfd7zXZ(?=\x00)' "$BZ" || true); off=${off%%:*}
  [ -n "$off" ] || die "no xz stream in $BZ (kernel not xz-compressed?)"
  # tail dies of SIGPIPE once xz has the whole stream: only xz's status counts
  set +o pipefail
  tail -c +$((off + 1)) "$BZ" | xz -dc --single-stream > "$VMLINUX.tmp" || die "xz failed on $BZ"
  set -o pipefail
  [ "$(head -c 4 "$VMLINUX.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "extracted vmlinux is not ELF"
  mv "$VMLINUX.tmp" "$VMLINUX"
fi

# --- 4. initramfs -----------------------------------------------------------------
INITRD=$CACHE/initramfs-$KVER.cpio
STAMP="$KVER $(cat "$HERE/prepare.sh" "$HERE/guest/init" /bin/busybox | sha256sum | cut -c1-16)"
if [ ! -s "$INITRD" ] || [ "$(cat "$CACHE/stamp" 2>/dev/null)" != "$STAMP" ]; then
  step "build initramfs for $KVER"
  ST=$(mktemp -d "$CACHE/initramfs.XXXXXX")
  trap 'rm -f "$LOG"; rm -rf "$ST"' EXIT
  mkdir -p "$ST"/{bin,dev,proc,sys,host,rw,ovl,newroot,mods}
  cp /bin/busybox "$ST/bin/"
  # applet links, but not "busybox" itself (would make the binary a self-link)
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$ST/bin/$a"; done
  # .ko files in dependency order, exactly as modprobe would insmod them
  for m in "${EARLY_MODS[@]}"; do
    modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" > "$LOG" || die "modprobe --show-depends $m"
    while read -r cmd path args; do
      [ "$cmd" = insmod ] || continue
      b=$(basename "$path")
      [ -e "$ST/mods/$b" ] && continue
      cp "$path" "$ST/mods/$b"
      echo "$b $args" >> "$ST/modules"
    done < "$LOG"
  done
  install -m 0755 "$HERE/guest/init" "$ST/init"
  # uncompressed: decompressing under TCG costs more than reading 4 MB
  (cd "$ST" && find . | cpio -o -H newc --quiet -R 0:0) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$ST"
fi
# run.sh reads which kernel to boot from here; written last = prepared
[ "$(cat "$CACHE/stamp" 2>/dev/null)" = "$STAMP" ] || echo "$STAMP" > "$CACHE/stamp"
# a kernel update leaves ~0.5 GB behind per old kernel: drop what is not current
for old in "$CACHE"/kernel/* "$CACHE"/initramfs-*.cpio "$CACHE"/debs/*.deb; do
  case "$old" in "$KROOT"|"$INITRD"|"$CACHE/debs/$KPKG-unsigned_"*) continue ;; esac
  [ -e "$old" ] && step "remove old $(basename "$old")" && rm -rf "$old"
done
