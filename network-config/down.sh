#!/usr/bin/env bash
# Stops every process the network scripts started (by pid file) and removes all runtime data.
# The built binaries in .fabric/bin stay.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
for f in "$net"/pids/*.pid; do
  [[ -e "$f" ]] || continue
  name="$(basename "$f" .pid)"
  running "$name" && log "stopping $name"
  stop "$name" &
done
wait
rm -rf "$net"
log "network down"
