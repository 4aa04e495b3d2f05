#!/usr/bin/env bash
# The Java NVMe/TCP initiator against the Linux kernel's own target (nvmet-tcp, Debian 6.1 in tests/vm).
#
#   client/src/test/vm/kernel-target.sh          on the host: build the client, boot the VM, rerun this inside
#   SKIP_BUILD=1 client/src/test/vm/kernel-target.sh   reuse the classes already in */target
#
# In the guest: a 64 MiB loop device exported by nvmet as one namespace of $NQN (allow_any_host) on
# tcp 169.254.77.1:4420, plus a discovery port 8009 linked to the same subsystem. Then ClientMain rw-test
# (discovery, connect with 2 I/O queues, identify, write/read/verify 4 KiB..MDTS, concurrent async I/O, flush,
# write zeroes, deallocate, 3 s idle on KATO 1 s, orderly disconnect) once plain and once with header + data digests.
# Exit 0 when both passed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
JDK=${JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}

if [ "${SANPORT_VM_GUEST:-}" != 1 ]; then
  cd "$ROOT"
  if [ "${SKIP_BUILD:-}" != 1 ]; then
    JAVA_HOME=$JDK mvn -o -q -B -pl client -am compile -DskipTests
  fi
  exec tests/vm/run.sh --timeout 900 -- "$HERE/kernel-target.sh"
fi

# ---- inside the guest ----
ADDR=169.254.77.1
NQN=nqn.2024-01.io.sanport:client-kernel-target
C=/sys/kernel/config/nvmet
IMG=/tmp/sanport-client-target.img
SIZE=$((64 << 20))
CP=$ROOT/client/target/classes:$ROOT/nvme/target/classes:$ROOT/bindings/target/classes
JAVA=("$JDK/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -cp "$CP")

cleanup() {
  rm -f $C/ports/1/subsystems/$NQN $C/ports/2/subsystems/$NQN 2>/dev/null || true
  rmdir $C/ports/1 $C/ports/2 2>/dev/null || true
  echo 0 > $C/subsystems/$NQN/namespaces/1/enable 2>/dev/null || true
  rmdir $C/subsystems/$NQN/namespaces/1 $C/subsystems/$NQN 2>/dev/null || true
  [ -n "${LOOP:-}" ] && losetup -d "$LOOP" 2>/dev/null || true
}
trap cleanup EXIT

ip link add vmlab0 type dummy
ip addr add $ADDR/16 dev vmlab0
ip link set vmlab0 up

truncate -s $SIZE $IMG
LOOP=$(losetup -f --show $IMG)
mkdir $C/subsystems/$NQN
echo 1 > $C/subsystems/$NQN/attr_allow_any_host
mkdir $C/subsystems/$NQN/namespaces/1
echo -n "$LOOP" > $C/subsystems/$NQN/namespaces/1/device_path
echo 1 > $C/subsystems/$NQN/namespaces/1/enable
for p in 1:4420 2:8009; do
  id=${p%%:*} svc=${p##*:}
  mkdir $C/ports/$id
  echo tcp > $C/ports/$id/addr_trtype
  echo ipv4 > $C/ports/$id/addr_adrfam
  echo $ADDR > $C/ports/$id/addr_traddr
  echo $svc > $C/ports/$id/addr_trsvcid
  ln -s $C/subsystems/$NQN $C/ports/$id/subsystems/$NQN
done
echo "nvmet: $NQN on $LOOP ($SIZE B), tcp $ADDR:4420 and discovery :8009"

rc=0
for digests in "" "--hdgst --ddgst"; do
  t0=$EPOCHREALTIME
  # shellcheck disable=SC2086
  if "${JAVA[@]}" io.sanport.client.ClientMain rw-test --addr $ADDR --port 4420 --nqn $NQN --queues 2 \
       --expect-size $SIZE --discover-port 8009 --kato 1000 $digests; then
    echo "PASS rw-test ${digests:-(no digests)} in $(awk "BEGIN{printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
  else
    echo "FAIL rw-test ${digests:-(no digests)}"; rc=1
  fi
done
"${JAVA[@]}" io.sanport.client.ClientMain discover --addr $ADDR --port 8009 || rc=1
echo "--- kernel log (nvmet) ---"
dmesg | grep -i nvmet | tail -n 20 || true
exit $rc
