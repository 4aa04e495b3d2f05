#!/usr/bin/env bash
# The Debian package on a brand-new machine: builds it (packaging/build-deb.sh), installs it with apt into the
# minimal Debian 12 root of the fresh-machine stage (tests/fresh: no JDK >= 22, none of sanport's libraries),
# apt resolving its Depends, and checks that what it installed runs: `sanport --version` on the bundled
# runtime, `serve --check` and a short `serve` of the default configuration under the unit's capabilities,
# `systemd-analyze verify` of the unit. Then it boots that root with systemd-nspawn, where `systemctl enable
# --now sanport` must run the unit as written (capabilities, seccomp) and export an image to a client,
# `systemctl reload` must apply an edited file (ExecReload) and `systemctl stop` must end it with 0; last, a purge
# must leave none of the package's files.
#
#   packaging/test-deb.sh            run it (root: chroot, mounts)
#   SKIP_BUILD=1 packaging/test-deb.sh   package cli/target/lib as it is (no Maven)
#
# The pristine root stays clean: this run writes into an overlay on top of it, thrown away afterwards. The
# packages apt downloads are kept in $SANPORT_FRESH_CACHE/deb-archives, so a second run downloads nothing.
# Prints PASS/FAIL per check and "N passed, M failed".
set -euo pipefail
PKG_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
SANPORT_ROOT=$(dirname "$PKG_DIR")
. "$SANPORT_ROOT/scripts/lib.sh"
CACHE=${SANPORT_FRESH_CACHE:-/var/cache/sanport-fresh}
BASE=$CACHE/bookworm-minbase
say() { echo "test-deb: $*"; }
for a in "$@"; do
    case $a in
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
        *) echo "test-deb.sh: unknown option $a" >&2; exit 2;;
    esac
done
[ "$(id -u)" = 0 ] || { say "needs root (chroot, mounts)"; echo "0 passed, 1 failed"; exit 1; }
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C
sanport_ensure_packages --who test-deb deb || { echo "0 passed, 1 failed"; exit 1; }

# --- 1. the package and the pristine root ---------------------------------------------------------------------
t=$SECONDS
if ! deb=$("$PKG_DIR/build-deb.sh" | tail -1) || [ ! -f "$deb" ]; then
    say "FAIL packaging/build-deb.sh"; echo "0 passed, 1 failed"; exit 1
fi
say "built $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $((SECONDS - t)) s"
"$SANPORT_ROOT/tests/fresh/fresh-machine.sh" --prepare || { echo "0 passed, 1 failed"; exit 1; }
exec 9>"$CACHE/.lock"
flock 9   # the root is not rebuilt under this run's overlay
[ -f "$BASE/.sanport-base" ] || { say "no pristine root in $BASE"; echo "0 passed, 1 failed"; exit 1; }

# --- 2. this run's machine: an overlay over the pristine root --------------------------------------------------
run=$(mktemp -d "$CACHE/deb.XXXXXX")
root=$run/root
mkdir -p "$run/upper" "$run/work" "$root" "$CACHE/deb-archives/partial"
mounts=()
cleanup() {
    local i p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
    done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || say "could not unmount ${mounts[$i]}"
    done
    if grep -q " $run" /proc/mounts; then say "still mounted under $run; left in place"; else rm -rf "$run"; fi
}
trap cleanup EXIT
mnt() { mount "$@"; mounts+=("${!#}"); }
mnt -t overlay overlay -o "lowerdir=$BASE,upperdir=$run/upper,workdir=$run/work" "$root"
mnt -t proc proc "$root/proc"
mnt -t sysfs sysfs "$root/sys"
mnt --bind /dev "$root/dev"
mnt --bind "$CACHE/deb-archives" "$root/var/cache/apt/archives"
cp "$deb" "$root/tmp/"
pkg=/tmp/$(basename "$deb")

# --- 3. the checks ----------------------------------------------------------------------------------------------
pass=0 fail=0
inside() { # inside COMMAND: a shell command in the new machine, with a login-like environment
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -c "$1"
}
on_host() { bash -c "$1"; }
check() { # check [--host] NAME COMMAND: runs COMMAND in the new machine (--host: on this host)
    local t=$SECONDS where=inside
    [ "$1" = --host ] && { where=on_host; shift; }
    say "--- $1"
    if $where "$2" 2>&1 | sed 's/^/    /'; [ "${PIPESTATUS[0]}" = 0 ]; then
        echo "PASS $1 ($((SECONDS - t)) s)"; pass=$((pass + 1))
    else
        echo "FAIL $1 ($((SECONDS - t)) s)"; fail=$((fail + 1))
    fi
}
# the package's Depends: runtime.list's libraries, as build-deb.sh takes them
runtime_libs=$(sanport_packages runtime | grep '^lib' | paste -sd ' ')
nlibs=$(wc -w <<<"$runtime_libs")
apt_install='apt-get -q -y -o DPkg::Lock::Timeout=60 install'
# the root's package lists date from when it was made: on a download error, update them once and retry
apt_retry() { echo "$apt_install $1 >/tmp/apt.log 2>&1 || { apt-get -q update >>/tmp/apt.log 2>&1 && $apt_install $1 >>/tmp/apt.log 2>&1; } || { tail -20 /tmp/apt.log; false; }"; }

check "the new machine has no JDK >= 22 and none of sanport's libraries" \
    "! ls /usr/lib/jvm/*/bin/java 2>/dev/null | while read -r j; do \$j -XshowSettings:properties -version 2>&1; done | grep -q 'java.specification.version = \\(2[2-9]\\|[3-9][0-9]\\)'
     ! dpkg-query -W -f='\${db:Status-Status}\n' $runtime_libs 2>/dev/null | grep -qx installed"
check "apt-get install $(basename "$deb") resolves its Depends ($runtime_libs)" \
    "$(apt_retry "$pkg") && dpkg-query -W -f='\${Package} \${Version} \${db:Status-Status}\n' sanport $runtime_libs |
     tee /dev/stderr | awk '\$3 != \"installed\" {bad = 1} END {exit bad || NR != $((nlibs + 1))}'"
check "/etc/sanport/sanport.json is a conffile; the unit, the launcher, the runtime, the jars and /var/lib/sanport are installed" \
    "dpkg-query -W -f='\${Conffiles}\n' sanport | grep -q '^ /etc/sanport/sanport.json ' &&
     test -x /usr/bin/sanport -a -f /lib/systemd/system/sanport.service -a -x /usr/lib/sanport/java/bin/java &&
     test -d /var/lib/sanport &&
     ls /usr/lib/sanport/lib/sanport-cli-*.jar"
check "sanport --version prints the package's version" \
    "v=\$(dpkg-query -W -f='\${Version}' sanport | tr '~' '-'); sanport --version | tee /dev/stderr | grep -q \"^sanport \$v (Java \""
check "the bundled runtime runs, not the machine's JDK 17 (JAVA_HOME and PATH pointing at it)" \
    "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 PATH=/usr/lib/jvm/java-17-openjdk-amd64/bin:\$PATH \
     SANPORT_JAVA_OPTS=-XshowSettings:properties sanport --version >/tmp/props 2>&1; rc=\$?; grep -E '^ *java.home|^ *java.specification.version|^sanport' /tmp/props;
     [ \$rc = 0 ] && grep -q '^ *java.home = /usr/lib/sanport/java\$' /tmp/props"
check "sanport serve --config /etc/sanport/sanport.json --check" \
    "sanport serve --config /etc/sanport/sanport.json --check | tee /dev/stderr | grep -q ': ok .* 0 subsystem(s)'"
# the unit's privileges: root's uid, CAP_IPC_LOCK only, no new privileges (io_uring's registered buffers pin
# memory beyond the 8 MiB RLIMIT_MEMLOCK here: only CAP_IPC_LOCK lets them)
check "sanport serve with the default configuration runs with the unit's capabilities (CAP_IPC_LOCK) and stops on SIGTERM with 0" \
    "setpriv --bounding-set=-all,+ipc_lock --inh-caps=-all --no-new-privs sanport serve --config /etc/sanport/sanport.json >/tmp/serve.log 2>&1 &
     pid=\$!; for i in \$(seq 100); do grep -q '^serving' /tmp/serve.log && break; kill -0 \$pid 2>/dev/null || break; sleep 0.2; done
     grep -q '^serving' /tmp/serve.log && grep CapBnd /proc/\$pid/status; kill -TERM \$pid; wait \$pid; rc=\$?; cat /tmp/serve.log
     [ \$rc = 0 ] && grep -q '^stopped' /tmp/serve.log"
check "systemd-analyze verify /lib/systemd/system/sanport.service (no warning)" \
    "{ dpkg-query -W -f='\${db:Status-Status}' systemd 2>/dev/null | grep -qx installed || $(apt_retry "--no-install-recommends systemd"); } &&
     out=\$(systemd-analyze verify /lib/systemd/system/sanport.service 2>&1); rc=\$?; echo \"\$out\"; [ \$rc = 0 ] && [ -z \"\$out\" ]"

# --- 4. the service under systemd: the root booted in a container ---------------------------------------------
# The unit as systemd runs it (its capabilities, seccomp filters and namespaces), with a configuration of the
# README's kind: a sparse image in /var/lib/sanport exported on 127.0.0.1 (the container's own network). A oneshot
# unit runs the README's commands at boot, logs what it saw, and powers the container off.
nqn=nqn.2024-01.io.sanport:deb-test
truncate -s 64M "$root/var/lib/sanport/disk0.img" "$root/var/lib/sanport/disk1.img"
cat >"$root/etc/sanport/sanport.json" <<EOF
{ "hosts": [],
  "ports": [ { "portid": 1, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "4420" },
               "subsystems": [ "$nqn" ] } ],
  "subsystems": [ { "nqn": "$nqn", "attr": { "allow_any_host": "1" },
                    "namespaces": [ { "nsid": 1, "enable": 1, "device": { "path": "/var/lib/sanport/disk0.img" } } ] } ] }
EOF
cat >"$root/usr/local/sbin/sanport-deb-check" <<EOF
#!/bin/bash
exec >/var/log/sanport-deb-check.log 2>&1
systemctl enable --now sanport.service; echo "enable rc=\$?"
for i in \$(seq 150); do journalctl -u sanport -o cat --no-pager | grep -q '^serving' && break; sleep 0.2; done
echo "is-enabled: \$(systemctl is-enabled sanport)"
systemctl show sanport -p ActiveState -p SubState
pid=\$(systemctl show -p MainPID --value sanport)
grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/\$pid/status
sanport discover -a 127.0.0.1; echo "discover rc=\$?"
sanport bench remote --address 127.0.0.1 --port 4420 --nqn $nqn --rw randwrite --bs 4k --qd 8 --seconds 1; echo "bench rc=\$?"
# the README's reload: an edited file, applied by the unit's ExecReload ('sanport reload' on the control socket)
sed -i 's|"namespaces": \[ |"namespaces": [ { "nsid": 2, "enable": 1, "device": { "path": "/var/lib/sanport/disk1.img" } }, |' /etc/sanport/sanport.json
systemctl reload sanport.service; echo "reload rc=\$?"
echo "reload: \$(systemctl show sanport -p MainPID --value) \$pid \$(sanport rpc nvmf_get_subsystems | grep -c '"nsid"') namespaces"
systemctl stop sanport.service
systemctl show sanport -p Result -p ExecMainStatus -p ActiveState
echo "--- journalctl -u sanport"
journalctl -u sanport -o cat --no-pager
systemctl poweroff --no-block 2>/dev/null   # no D-Bus here: systemctl says so, then asks PID 1 itself
EOF
chmod 0755 "$root/usr/local/sbin/sanport-deb-check"
cat >"$root/etc/systemd/system/sanport-deb-check.service" <<EOF
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/sanport-deb-check
[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -s /etc/systemd/system/sanport-deb-check.service "$root/etc/systemd/system/multi-user.target.wants/"
# nspawn mounts its own /proc, /sys and /dev
for m in "$root/dev" "$root/sys" "$root/proc"; do umount "$m"; done
mounts=("$root" "$root/var/cache/apt/archives")
boot_log=$root/var/log/sanport-deb-check.log
t=$SECONDS
say "systemd-nspawn --boot (the root's systemd as PID 1, a private network)"
# --register=no --keep-unit: no machined or system bus needed on this host. nspawn's default capabilities leave
# out CAP_IPC_LOCK, which a real machine's systemd has to give; without it the unit could not keep its own.
timeout 180 systemd-nspawn -q -D "$root" --boot --register=no --keep-unit --private-network \
    --capability=CAP_IPC_LOCK >"$run/nspawn.log" 2>&1 || true
if [ -f "$boot_log" ]; then
    say "the container ran its check in $((SECONDS - t)) s; what it logged:"; sed 's/^/    /' "$boot_log"
else
    say "the container logged nothing in $((SECONDS - t)) s; nspawn's output:"; tail -30 "$run/nspawn.log" | sed 's/^/    /'
fi
check --host "systemctl enable --now sanport: active, with CAP_IPC_LOCK only, no new privileges, seccomp filters" \
    "grep -qx 'is-enabled: enabled' '$boot_log' && grep -qx 'ActiveState=active' '$boot_log' &&
     grep -qP '^CapEff:\\t0000000000004000\$' '$boot_log' && grep -qP '^CapBnd:\\t0000000000004000\$' '$boot_log' &&
     grep -qP '^NoNewPrivs:\\t1\$' '$boot_log' && grep -qP '^Seccomp:\\t2\$' '$boot_log'"
check --host "the service exports the configured image: discovery lists it, the Java initiator writes to it over NVMe/TCP" \
    "grep -q 'subnqn=$nqn traddr=127.0.0.1' '$boot_log' && grep -qx 'discover rc=0' '$boot_log' &&
     grep -q '^sanport-remote randwrite bs=4k qd=8: .* IOPS' '$boot_log' && grep -qx 'bench rc=0' '$boot_log'"
check --host "systemctl reload sanport (ExecReload=sanport reload): the edited file's namespace 2 added, same process" \
    "grep -qx 'reload rc=0' '$boot_log' && grep -q 'reload: added namespace 2 (/var/lib/sanport/disk1.img) to $nqn' '$boot_log' &&
     grep -qE '^reload: ([0-9]+) \\1 2 namespaces\$' '$boot_log'"
check --host "systemctl stop sanport: a graceful stop, exit 0, no restart" \
    "grep -qx 'Result=success' '$boot_log' && grep -qx 'ExecMainStatus=0' '$boot_log' &&
     grep -qx 'ActiveState=inactive' '$boot_log' && grep -qx 'stopped' '$boot_log' && ! grep -q 'Scheduled restart' '$boot_log'"
mnt -t proc proc "$root/proc"
mnt -t sysfs sysfs "$root/sys"
mnt --bind /dev "$root/dev"

check "apt-get purge sanport leaves no file of the package behind" \
    "apt-get -q -y purge sanport >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; false; }
     ! dpkg-query -W sanport 2>/dev/null | grep -q . && [ ! -e /usr/bin/sanport ] && [ ! -e /usr/lib/sanport ] &&
     [ ! -e /etc/sanport/sanport.json ] && [ ! -e /lib/systemd/system/sanport.service ]"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
