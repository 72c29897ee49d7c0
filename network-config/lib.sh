# Shared by the network scripts: paths, config, and starting/stopping background processes.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
source "$here/versions.env"
source "$here/network.env"
fabric="$repo/.fabric"
net="$fabric/network"          # all runtime data: certificates, ledgers, logs, pid files
orgs="$net/organizations"
export PATH="$fabric/bin:$PATH"
export FABRIC_CFG_PATH="$net/config"

log() { printf '%s %s\n' "$(date +%T)" "$*"; }
die() { echo "error: $*" >&2; exit 1; }

# port <NAME> e.g. `port PEER_ORG1` -> value of $PEER_ORG1_PORT
port() { local v="${1}_PORT"; echo "${!v}"; }

# start <name> <dir> <command...>: runs the command detached in its own process group,
# output to logs/<name>.log, pid in pids/<name>.pid.
start() {
  local name="$1" dir="$2"; shift 2
  mkdir -p "$net/logs" "$net/pids"
  running "$name" && die "$name is already running (pid $(cat "$net/pids/$name.pid"))"
  (cd "$dir" && exec setsid "$@" >>"$net/logs/$name.log" 2>&1 < /dev/null) &
  echo $! > "$net/pids/$name.pid"
}

running() { local f="$net/pids/$1.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

# stop <name>: TERM to the process group, KILL after 10 s.
stop() {
  local f="$net/pids/$1.pid" pid i
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# wait_port <name> <port> [seconds]: until 127.0.0.1:<port> accepts connections.
wait_port() {
  local name="$1" p="$2" i
  for i in $(seq $(( ${3:-30} * 10 ))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
    running "$name" || die "$name exited; see $net/logs/$name.log"
    sleep 0.1
  done
  die "$name did not listen on 127.0.0.1:$p; see $net/logs/$name.log"
}

need() { local c; for c in "$@"; do command -v "$c" >/dev/null || die "$c not found: run network-config/install-fabric.sh"; done; }

# Environment for the `peer` CLI acting as <org>'s admin against <org>'s peer.
as_admin() {
  local org="$1" up="PEER_${1^^}"
  export CORE_PEER_LOCALMSPID="$(msp_id "$org")"
  export CORE_PEER_MSPCONFIGPATH="$orgs/$org/users/admin/msp"
  export CORE_PEER_ADDRESS="127.0.0.1:$(port "$up")"
  export CORE_PEER_TLS_ENABLED=true
  export CORE_PEER_TLS_ROOTCERT_FILE="$orgs/$org/msp/tlscacerts/ca.pem"
}

msp_id() { case "$1" in orderer) echo OrdererMSP ;; *) echo "${1^}MSP" ;; esac; }
orderer_tls=(--orderer "127.0.0.1:$ORDERER_PORT" --tls --cafile "$net/organizations/orderer/msp/tlscacerts/ca.pem")
