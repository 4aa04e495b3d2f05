#!/bin/bash
# interop-tcp.sh - tests/vm/interop.sh --transport tcp: sanport's NVMe/TCP target against the Linux 6.1 kernel
# initiator (discover, connect, id-ctrl/id-ns, fio verify, ext4 across a reconnect, digests, disconnect mid-I/O,
# namespaces added and removed over the control socket while connected, SIGTERM). See interop.sh for the checks.
exec "$(dirname "${BASH_SOURCE[0]}")/interop.sh" --transport tcp "$@"
