#!/usr/bin/env bash
# Starts, stops or kills one node of the running network, for operations and fault drills:
#   node.sh start|stop|kill|restart <name>     names: orderer (raft) or orderer0..orderer3 (bft),
#                                              peer0.<org>, chaincode
#   node.sh list                               every node and whether it runs
# `stop` sends TERM (KILL after 10 s); `kill` is kill -9 of the node's process group. `start` uses the
# same settings as up.sh / deploy.sh and waits until the node listens. Data is kept either way.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[[ -d "$net" ]] || die "the network is not up ($net missing)"
verb="${1:-}" name="${2:-}"
case "$verb" in
  list) for n in $(nodes); do printf '%-12s %s\n' "$n" "$(running "$n" && echo running || echo stopped)"; done; exit 0 ;;
  start|stop|kill|restart) [[ -n "$name" ]] || die "usage: node.sh $verb <$(nodes | paste -sd '|')>" ;;
  *) die "usage: node.sh start|stop|kill|restart <name> | list" ;;
esac
[[ " $(nodes | paste -sd ' ') " == *" $name "* ]] || die "unknown node $name (nodes: $(nodes | paste -sd ' '))"
case "$verb" in
  kill)
    f="$net/pids/$name.pid"
    running "$name" || die "$name is not running"
    kill -KILL -- "-$(cat "$f")" 2>/dev/null || kill -KILL "$(cat "$f")"
    while kill -0 "$(cat "$f")" 2>/dev/null; do sleep 0.05; done
    rm -f "$f"; log "killed $name" ;;
  stop) stop "$name"; log "stopped $name" ;;
  start|restart)
    [[ "$verb" == restart ]] && stop "$name"
    start_node "$name"
    wait_port "$name" "$(node_port "$name")"
    log "started $name" ;;
esac
