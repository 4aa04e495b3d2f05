#!/bin/bash
# interop-rdma.sh - tests/vm/interop.sh --transport rdma: sanport's NVMe/RDMA target against the Linux 6.1 kernel
# initiator on SoftRoCE (discover, connect, id-ctrl/id-ns, fio verify, ext4 across a reconnect, disconnect
# mid-I/O, zero-copy counters, SIGTERM; --perf adds 4k randread vs nvmet-rdma). See interop.sh for the checks.
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)/tests/vm/interop.sh" --transport rdma "$@"
