#!/bin/bash
# prepare-612.sh - the second guest of tests/vm (run.sh --kernel 6.12): Debian 13
# (trixie)'s 6.12 kernel, which has NVMe in-band authentication (NVME_AUTH,
# NVME_HOST_AUTH, NVME_TARGET_AUTH) and NVMe/TCP TLS (NVME_TCP_TLS,
# NVME_TARGET_TCP_TLS, NVME_KEYRING), booting a trixie userland (nvme-cli 2.13,
# tlshd, keyutils, fio 3.39) instead of this bookworm machine's root.
# Called by `prepare.sh --kernel 6.12`; idempotent and quiet when prepared.
#
# Everything lives in $SANPORT_VM_CACHE/612 (the 6.1 files of prepare.sh are
# not touched, and its clean-up leaves this directory alone):
#   apt/      a private apt configuration whose only source is trixie: the
#             host's own apt never sees trixie (no accidental upgrades)
#   debs/     linux-image-<ver>-amd64-unsigned .deb (apt-get download)
#   kernel/   its dpkg -x tree, depmod'ed, plus the uncompressed vmlinux
#   root/     `debootstrap --variant=minbase trixie` + the packages of
#             scripts/packages/vm612-guest.list (+ runtime.list), the host's
#             local CAs, /etc/tlshd.conf; stamp in root/.sanport-root
#   initramfs-<ver>.cpio, stamp (kernel version + hash of what went in)
# The guest sees root/ as its "/" (overlay, writes discarded) and the host's
# JDK, checkout, ~/.m2 and /tmp at their usual paths (see run.sh, guest/init).
#
# Environment: SANPORT_VM_CACHE (default /var/cache/sanport-vm),
#   SANPORT_VM_KERNEL_612 pins the kernel package, e.g. linux-image-6.12.57+deb13-amd64
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SANPORT_VM_CACHE:-/var/cache/sanport-vm}
D=$CACHE/612
SUITE=trixie
SANPORT_ROOT=$(cd "$HERE/../.." && pwd)
. "$SANPORT_ROOT/scripts/lib.sh"
EARLY_MODS=(virtio_pci 9pnet_virtio 9p overlay virtio_console configfs)
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C DEBIAN_FRONTEND=noninteractive

step() { echo "prepare-612: $*"; }
die() { echo "prepare-612: ERROR: $*" >&2; exit 1; }
LOG=$(mktemp); trap 'rm -f "$LOG"' EXIT
quiet() { "$@" > "$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "failed: $*"; }; }

mkdir -p "$D/debs" "$D/kernel"
# its own lock: building the root takes minutes, 6.1 runs must not wait for it
exec 9> "$D/.lock"
flock 9

# --- 1. host packages (qemu, debootstrap, ...): scripts/packages/vm.list -------
mapfile -t PKGS < <(sanport_packages vm)
missing=()
for p in "${PKGS[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  quiet apt-get -q -o DPkg::Lock::Timeout=600 update
  quiet apt-get -q -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
fi

# --- 2. a private apt whose only source is trixie --------------------------------
# the mirror this machine's apt uses (deb822 or one-line format)
MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
A=$D/apt
mkdir -p "$A/sources.list.d" "$A/lists/partial" "$A/cache/archives/partial"
cat > "$A/sources.list.d/$SUITE.sources.new" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
mv "$A/sources.list.d/$SUITE.sources.new" "$A/sources.list.d/$SUITE.sources"
: > "$A/sources.list"; : > "$A/status"
APT=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts="$A/sources.list.d"
     -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache" -o Dir::State::status="$A/status"
     -o APT::Sandbox::User=root -o Debug::NoLocking=1)
UPDATED=0
apt_update() { [ $UPDATED = 1 ] && return; step "apt-get update ($SUITE, private lists in $A)"
               quiet apt-get -q "${APT[@]}" update; UPDATED=1; }

# --- 3. kernel package -------------------------------------------------------------
resolve() { apt-cache "${APT[@]}" depends linux-image-amd64 2>/dev/null \
              | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ && !f {print $2; f = 1}' || true; }
KPKG=${SANPORT_VM_KERNEL_612:-}
if [ -z "$KPKG" ]; then
  # the kernel of the last preparation, while its tree is complete: no apt per run
  v=$(cut -d' ' -f1 "$D/stamp" 2>/dev/null || true)
  [ -n "$v" ] && [ -s "$D/kernel/$v/boot/vmlinux-$v" ] && KPKG=linux-image-$v
fi
if [ -z "$KPKG" ]; then
  KPKG=$(resolve)
  [ -n "$KPKG" ] || { apt_update; KPKG=$(resolve); }
fi
[ -n "$KPKG" ] || die "cannot resolve $SUITE's linux-image-amd64 to a kernel package"
KPKG=${KPKG%-unsigned}
KVER=${KPKG#linux-image-}                                   # e.g. 6.12.57+deb13-amd64
KROOT=$D/kernel/$KVER
if [ ! -f "$KROOT/boot/vmlinuz-$KVER" ]; then
  debs=("$D"/debs/"$KPKG"-unsigned_*.deb)
  if [ ! -f "${debs[-1]}" ]; then
    step "apt-get download $KPKG-unsigned ($SUITE)"
    (cd "$D/debs" && apt-get -q "${APT[@]}" download "$KPKG-unsigned") > "$LOG" 2>&1 \
      || { apt_update; (cd "$D/debs" && quiet apt-get -q "${APT[@]}" download "$KPKG-unsigned"); }
    debs=("$D"/debs/"$KPKG"-unsigned_*.deb)
    [ -f "${debs[-1]}" ] || die "download of $KPKG-unsigned produced no .deb"
  fi
  step "unpack $(basename "${debs[-1]}") (dpkg -x, not installed)"
  rm -rf "$KROOT.tmp" && mkdir -p "$KROOT.tmp"
  dpkg -x "${debs[-1]}" "$KROOT.tmp"
  # trixie's .deb is merged-/usr (usr/lib/modules); depmod -b and modprobe -d look in lib/modules
  [ -e "$KROOT.tmp/lib" ] || ln -s usr/lib "$KROOT.tmp/lib"
  rm -rf "$KROOT" && mv "$KROOT.tmp" "$KROOT"
fi
if [ ! -s "$KROOT/lib/modules/$KVER/modules.dep" ]; then
  step "depmod $KVER"
  depmod -b "$KROOT" "$KVER"
fi

# --- 4. uncompressed vmlinux (PVH entry; see prepare.sh) -------------------------
VMLINUX=$KROOT/boot/vmlinux-$KVER
if [ ! -s "$VMLINUX" ]; then
  step "extract vmlinux"
  BZ=$KROOT/boot/vmlinuz-$KVER
  set +o pipefail
  if off=$(grep -aobUP -m1 '\xfd7zXZ(?=\x00)' "$BZ"); then
    tail -c +$((${off%%:*} + 1)) "$BZ" | xz -dc --single-stream > "$VMLINUX.tmp" || die "xz failed on $BZ"
  elif off=$(grep -aobUP -m1 '\x28\xb5\x2f\xfd' "$BZ"); then
    # (Debian 13 kernels) the bytes after the frame make zstd exit 1 once the
    # whole image is out: the ELF check below judges the result
    tail -c +$((${off%%:*} + 1)) "$BZ" | zstd -dcq 2>/dev/null > "$VMLINUX.tmp" || true
  else
    die "no xz or zstd stream in $BZ"
  fi
  set -o pipefail
  [ "$(head -c 4 "$VMLINUX.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "extracted vmlinux is not ELF"
  mv "$VMLINUX.tmp" "$VMLINUX"
fi

# --- 5. the trixie userland ----------------------------------------------------------
# Packages: the tools the 6.12 stages use in the guest, plus what sanport loads
# at run time (./sanport checks for them with dpkg-query - the guest's dpkg).
mapfile -t GPKGS < <(sanport_packages vm612-guest runtime)
local_cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${local_cas[0]}" ] || local_cas=()
ROOT=$D/root
# ROOT_VERSION: bump when the way the root is made changes (not on every edit of this script)
ROOT_VERSION=1
ROOT_STAMP="$SUITE v$ROOT_VERSION ${GPKGS[*]} cas:$(cat "${local_cas[@]}" /dev/null | sha256sum | cut -c1-16)"
if [ "$(cat "$ROOT/.sanport-root" 2>/dev/null)" != "$ROOT_STAMP" ]; then
  t=$SECONDS
  rm -rf "$ROOT.new"
  step "debootstrap --variant=minbase $SUITE into $ROOT (1-3 minutes)"
  if ! debootstrap --variant=minbase "$SUITE" "$ROOT.new" "$MIRROR" > "$D/debootstrap.log" 2>&1; then
    tail -n 20 "$D/debootstrap.log" >&2; die "debootstrap failed (log: $D/debootstrap.log)"
  fi
  # the site's local CAs (the egress proxy's among them), as a machine here trusts them
  if [ ${#local_cas[@]} -gt 0 ]; then
    mkdir -p "$ROOT.new/usr/local/share/ca-certificates"
    cp "${local_cas[@]}" "$ROOT.new/usr/local/share/ca-certificates/"
  fi
  cp /etc/apt/apt.conf.d/99* "$ROOT.new/etc/apt/apt.conf.d/" 2>/dev/null || true
  cp /etc/resolv.conf "$ROOT.new/etc/"
  step "apt-get install in the $SUITE root: ${GPKGS[*]}"
  mount -t proc proc "$ROOT.new/proc"
  if ! chroot "$ROOT.new" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c "apt-get -q update && apt-get -q install -y --no-install-recommends ${GPKGS[*]} && update-ca-certificates && apt-get clean" \
        >> "$D/debootstrap.log" 2>&1; then
    umount "$ROOT.new/proc"; tail -n 20 "$D/debootstrap.log" >&2; die "apt-get install in the $SUITE root failed (log: $D/debootstrap.log)"
  fi
  umount "$ROOT.new/proc"
  # tlshd may hand the kernel's NVMe keys (.nvme keyring) to the TLS handshake
  cat > "$ROOT.new/etc/tlshd.conf" <<'EOF'
# written by sanport's tests/vm/prepare-612.sh
[debug]
loglevel=0
tls=0
nl=0

[authenticate]
keyrings=.nvme

[authenticate.client]

[authenticate.server]
EOF
  rm -f "$ROOT.new/etc/resolv.conf"
  rm -rf "$ROOT.new/var/lib/apt/lists/"* "$ROOT.new/var/cache/apt/"*.bin
  echo "$ROOT_STAMP" > "$ROOT.new/.sanport-root"
  rm -rf "$ROOT"; mv "$ROOT.new" "$ROOT"
  step "$SUITE root ready in $((SECONDS - t)) s ($(du -sh "$ROOT" | cut -f1))"
fi

# --- 6. initramfs -----------------------------------------------------------------
INITRD=$D/initramfs-$KVER.cpio
# run.sh computes the same: what went into the initramfs and the root
L=$SANPORT_ROOT/scripts/packages
STAMP="$KVER $(cat "$HERE/prepare-612.sh" "$HERE/guest/init" /bin/busybox "$L/vm612-guest.list" "$L/runtime.list" | sha256sum | cut -c1-16)"
if [ ! -s "$INITRD" ] || [ "$(cat "$D/stamp" 2>/dev/null)" != "$STAMP" ]; then
  step "build initramfs for $KVER"
  ST=$(mktemp -d "$D/initramfs.XXXXXX")
  trap 'rm -f "$LOG"; rm -rf "$ST"' EXIT
  mkdir -p "$ST"/{bin,dev,proc,sys,host,rw,ovl,newroot,mods}
  cp /bin/busybox "$ST/bin/"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$ST/bin/$a"; done
  for m in "${EARLY_MODS[@]}"; do
    modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" > "$LOG" || die "modprobe --show-depends $m"
    while read -r cmd path args; do
      [ "$cmd" = insmod ] || continue
      b=$(basename "$path")
      b=${b%.xz}; b=${b%.zst}
      [ -e "$ST/mods/$b" ] && continue
      # busybox insmod reads plain .ko only: decompress here, once
      case "$path" in
        *.xz) xz -dc "$path" > "$ST/mods/$b" ;;
        *.zst) zstd -dcq "$path" > "$ST/mods/$b" ;;
        *) cp "$path" "$ST/mods/$b" ;;
      esac
      echo "$b $args" >> "$ST/modules"
    done < "$LOG"
  done
  install -m 0755 "$HERE/guest/init" "$ST/init"
  (cd "$ST" && find . | cpio -o -H newc --quiet -R 0:0) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$ST"
fi
[ "$(cat "$D/stamp" 2>/dev/null)" = "$STAMP" ] || echo "$STAMP" > "$D/stamp"
for old in "$D"/kernel/* "$D"/initramfs-*.cpio "$D"/debs/*.deb; do
  case "$old" in "$KROOT"|"$INITRD"|"$D/debs/$KPKG-unsigned_"*) continue ;; esac
  [ -e "$old" ] && step "remove old $(basename "$old")" && rm -rf "$old"
done
exit 0
