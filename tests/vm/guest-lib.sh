# guest-lib.sh - sourced inside a tests/vm/run.sh guest by the NVMe-oF interop script (tests/vm/interop.sh,
# --transport tcp|rdma) and, for the PASS/FAIL helpers, client/src/test/vm/rdma-client.sh.
# The caller sets, where it uses them: TRANSPORT (tcp|rdma), ADDR, PORT, NQN, LOG, WORK, MNT, spid.

pass=0 fail=0
t0=$(cut -d' ' -f1 /proc/uptime)
# seconds since this file was sourced: every line says when, so a slow step shows in the log
el() { awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%5.1fs", b - a}'; }
# the host half counts '^PASS' / '^FAIL' lines, so these prefixes are the contract
ok() { echo "PASS [$(el)] $*"; pass=$((pass + 1)); }
ko() { echo "FAIL [$(el)] $*"; fail=$((fail + 1)); }
# check WHAT CMD...: one PASS/FAIL for a function that notes its own details
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
# detail lines, indented so they are never counted as checks
note() { echo "     [$(el)] $*"; }
# the target's log explains most failures; shown only when something failed
dump_log() { echo "---- sanport log (tail) ----"; tail -n "${1:-25}" "$LOG" 2>/dev/null | sed 's/^/  | /'; echo "----"; }
# the guest's last lines: the host half reads the PASS/FAIL lines, this is for people; status = all passed
guest_summary() { [ "$fail" = 0 ] || dump_log 40; echo "guest: $pass passed, $fail failed"; [ "$fail" = 0 ]; }

# on exit, whatever failed: leave no mount or controller behind and stop the target
host_cleanup() {
  mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
  nvme disconnect -n "$NQN" >/dev/null 2>&1
  [ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
}

# discovered: nvme discover on $PORT lists $NQN at $TRANSPORT $ADDR:$PORT; sets disc (the output) and rc
discovered() {
  disc=$(nvme discover -t "$TRANSPORT" -a "$ADDR" -s "$1" 2>&1); rc=$?
  [ $rc = 0 ] && grep -Eq "subnqn: +$NQN\$" <<<"$disc" && grep -Eq "trsvcid: +$PORT\$" <<<"$disc" \
    && grep -Eq "traddr: +$ADDR\$" <<<"$disc" && grep -Eq "trtype: +$TRANSPORT\$" <<<"$disc"
}

# connect [nvme connect options]: sets CTRL (nvmeX) and DEV (/dev/nvmeYn1). nvme-cli does not say which device
# appeared, so find it by subsystem NQN in sysfs; there is no udev in the guest, so mknod the node if missing
CTRL="" DEV=""
connect() {
  local out c b i ma mi
  CTRL="" DEV=""
  out=$(nvme connect -t "$TRANSPORT" -a "$ADDR" -s "$PORT" -n "$NQN" "$@" 2>&1) || { note "nvme connect $*: $out"; return 1; }
  for i in $(seq 300); do
    for c in /sys/class/nvme/nvme*; do
      [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] && [ "$(cat "$c/state" 2>/dev/null)" = live ] && CTRL=${c##*/}
    done
    # the namespace: a block device whose parent (controller, or the subsystem with native multipath) has our NQN
    for b in /sys/block/nvme*n*; do
      [[ "${b##*/}" =~ ^nvme[0-9]+n[0-9]+$ ]] && [ -r "$b/dev" ] || continue   # not the hidden paths nvmeXcYnZ
      [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
      DEV=/dev/${b##*/}
      if [ ! -b "$DEV" ]; then
        IFS=: read -r ma mi < "$b/dev"; mknod "$DEV" b "$ma" "$mi"
      fi
    done
    [ -n "$CTRL" ] && [ -n "$DEV" ] && [ -b "$DEV" ] && blockdev --getsize64 "$DEV" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  note "connected ($out) but no live controller/namespace: ctrl '$CTRL' dev '$DEV'"; return 1
}
# disconnect: exactly our one controller goes, its block device leaves sysfs, and a node we made does not dangle
disconnect() {
  local out i
  out=$(nvme disconnect -n "$NQN" 2>&1) || { note "nvme disconnect: $out"; return 1; }
  grep -q 'disconnected 1 controller' <<<"$out" || { note "nvme disconnect: $out"; return 1; }
  for i in $(seq 100); do [ -e "/sys/block/${DEV#/dev/}" ] || break; sleep 0.1; done
  [ ! -e "/sys/block/${DEV#/dev/}" ] && rm -f "$DEV"
  [ ! -e "/sys/block/${DEV#/dev/}" ]
}

# fio_verify NAME [SIZE]: randwrite 4k-128k QD16 with crc32c verify over SIZE (64M) at 1 GiB, then a verify-only
# pass that re-reads it: the data path, not just the commands, must be right
fio_verify() {
  local common=(--filename="$DEV" --ioengine=io_uring --direct=1 --rw=randwrite --bsrange=4k-128k --iodepth=16
                --offset=1G --size="${2:-64M}" --verify=crc32c --verify_fatal=1 --verify_state_save=0 --randseed=4242
                --output-format=terse --terse-version=3)
  local out
  out=$(fio --name="$1-write" "${common[@]}" 2>&1) || { note "fio write+verify: $(tail -5 <<<"$out")"; return 1; }
  note "fio $1 randwrite+verify: $(awk -F';' '{printf "write %d IOPS %.1f MiB/s", $49, $48/1024}' <<<"$(tail -1 <<<"$out")")"
  out=$(fio --name="$1-verify" "${common[@]}" --verify_only=1 2>&1) || { note "fio verify_only: $(tail -5 <<<"$out")"; return 1; }
  note "fio $1 verify-only pass: $(awk -F';' '{printf "read %d IOPS %.1f MiB/s", $8, $7/1024}' <<<"$(tail -1 <<<"$out")")"
}

# ext4_roundtrip: a filesystem must survive a disconnect/reconnect byte for byte (flush, ordering, metadata):
# mkfs, files + sha256sum, umount, disconnect, reconnect, fsck -n, checksums, umount, disconnect
ext4_roundtrip() {
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$DEV" >"$WORK/mkfs.log" 2>&1 \
      || { note "mkfs: $(cat "$WORK/mkfs.log")"; return 1; }
  mkdir -p "$MNT" && mount -t ext4 "$DEV" "$MNT" || { note "mount failed"; return 1; }
  mkdir "$MNT/d" && local i
  for i in $(seq 12); do head -c $(( (i * 7919 % 23 + 1) * 262144 + i * 511 )) /dev/urandom > "$MNT/d/f$i" || return 1; done
  for i in $(seq 200); do echo "small file $i" > "$MNT/d/s$i"; done
  (cd "$MNT" && find d -type f | sort | xargs sha256sum) > "$WORK/sums" || return 1
  note "ext4: $(wc -l < "$WORK/sums") files, $(du -sm "$MNT/d" | cut -f1) MiB written"
  umount "$MNT" || { note "umount failed"; return 1; }
  disconnect || return 1
  connect || return 1
  note "reconnected: $CTRL $DEV"
  fsck.ext4 -n -f "$DEV" >"$WORK/fsck.log" 2>&1 || { note "fsck -n: $(tail -5 "$WORK/fsck.log")"; return 1; }
  note "fsck.ext4 -n -f: $(tail -1 "$WORK/fsck.log")"
  mount -t ext4 "$DEV" "$MNT" || { note "mount after reconnect failed"; return 1; }
  (cd "$MNT" && sha256sum --quiet -c "$WORK/sums") || { note "checksums differ"; return 1; }
  umount "$MNT" || return 1
  disconnect
}
