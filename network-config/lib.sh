# Shared by the network scripts: paths, config, and starting/stopping background processes.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
source "$here/versions.env"
source "$here/network.env"
log() { printf '%s %s\n' "$(date +%T)" "$*"; }
die() { echo "error: $*" >&2; exit 1; }

# $fabric: Fabric's bin/, config/ and builders/ccaas/ (network.env: FABRIC_VERSION, FABRIC31_HOME).
case "$FABRIC_VERSION" in
  2.5) fabric="$repo/.fabric" ;;
  3.1) fabric="${FABRIC31_HOME:-/opt/fabric-3.1}" ;;
  *) die "FABRIC_VERSION=$FABRIC_VERSION: use 2.5 or 3.1" ;;
esac
case "$CONSENSUS" in
  raft) ;;
  bft) [[ "$FABRIC_VERSION" == 3.1 ]] || die "CONSENSUS=bft needs FABRIC_VERSION=3.1 (SmartBFT is Fabric 3)" ;;
  *) die "CONSENSUS=$CONSENSUS: use raft or bft" ;;
esac
net="${FABRIC_NETWORK_DIR:-$repo/.fabric/network}"   # all runtime data: certificates, ledgers, logs, pid files
orgs="$net/organizations"
export PATH="$fabric/bin:$PATH"
export FABRIC_CFG_PATH="$net/config"

# The ordering service: its organisations and nodes. raft: one node `orderer` of OrdererMSP.
# bft: four SmartBFT nodes (3f+1, f = 1) of two organisations, so neither can order alone.
if [[ "$CONSENSUS" == bft ]]; then
  orderer_orgs="orderer orderer2"
  orderer_nodes="orderer0 orderer1 orderer2 orderer3"
else
  orderer_orgs="orderer"
  orderer_nodes="orderer"
fi
# orderer_org <node>: the organisation running it
orderer_org() { case "$1" in orderer|orderer0|orderer1) echo orderer ;; *) echo orderer2 ;; esac; }
# orderer_port <node> [ADMIN|OPS]: its client (and cluster) port, admin or operations port
orderer_port() {
  local i="${1#orderer}" v
  if [[ -z "$i" || "$i" == 0 ]]; then v="ORDERER${2:+_$2}_PORT"; else v="ORDERER${i}${2:+_$2}_PORT"; fi
  echo "${!v}"
}

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

need() {
  local c hint="run network-config/install-fabric.sh"
  [[ "$FABRIC_VERSION" == 3.1 ]] && hint="build Fabric 3.1 into $fabric (docs/fabric.md) or set FABRIC31_HOME"
  for c in "$@"; do command -v "$c" >/dev/null || die "$c not found: $hint"; done
}

# The Fabric binaries on PATH must be the release FABRIC_VERSION asks for: a 2.5 orderer cannot
# run a BFT channel, and a mix of releases fails in ways that are hard to read.
check_release() {
  local want v c
  want="$([[ "$FABRIC_VERSION" == 3.1 ]] && echo "$FABRIC_31_RELEASE" || echo "$FABRIC_25_RELEASE")"
  for c in peer orderer; do
    v="$("$c" version 2>/dev/null | sed -n 's/^ Version: \(.*\)$/\1/p')"
    [[ "${v%.*}" == "${want%.*}" ]] ||
      die "$(command -v "$c") is Fabric ${v:-?}, FABRIC_VERSION=$FABRIC_VERSION wants $want (binaries from $fabric)"
  done
}

# Environment for the `peer` CLI acting as <org>'s admin against <org>'s peer.
as_admin() {
  local org="$1" up="PEER_${1^^}"
  export CORE_PEER_LOCALMSPID="$(msp_id "$org")"
  export CORE_PEER_MSPCONFIGPATH="$orgs/$org/users/admin/msp"
  export CORE_PEER_ADDRESS="127.0.0.1:$(port "$up")"
  export CORE_PEER_TLS_ENABLED=true
  export CORE_PEER_TLS_ROOTCERT_FILE="$orgs/$org/msp/tlscacerts/ca.pem"
}

msp_id() { echo "${1^}MSP"; }   # org1 -> Org1MSP, orderer -> OrdererMSP, orderer2 -> Orderer2MSP

# The chaincode endorsement policy: ENDORSEMENT_POLICY, else a majority of the organisations' peers.
endorsement_policy() {
  if [[ -n "$ENDORSEMENT_POLICY" ]]; then echo "$ENDORSEMENT_POLICY"; return; fi
  local org n=0 peers=()
  for org in $ORGS; do peers+=("'$(msp_id "$org").peer'"); n=$((n + 1)); done
  local IFS=,; echo "OutOf($((n / 2 + 1)),${peers[*]})"
}

# The network's nodes by name: the orderers ($orderer_nodes), peer0.<org>, and one contract server per
# deployed chaincode: `chaincode` for TORGO's contract (chaincode name torgo), `chaincode-<name>` for any other (e.g. the
# no-op contract of the throughput benchmark). For node.sh and status.sh.
nodes() {
  local org cc n
  for n in $orderer_nodes; do echo "$n"; done
  for org in $ORGS; do echo "peer0.$org"; done
  for cc in "$net"/chaincode/*/package-id; do [[ -e "$cc" ]] && cc_node "$(basename "$(dirname "$cc")")"; done
  return 0
}
cc_node() { [[ "$1" == torgo ]] && echo chaincode || echo "chaincode-$1"; }
cc_name() { [[ "$1" == chaincode ]] && echo torgo || echo "${1#chaincode-}"; }

# start_node <name>: starts one node with its settings (the same way up.sh and deploy.sh do), so a
# stopped or killed node can be started again with `node.sh start <name>`.
start_node() {
  case "$1" in
    orderer|orderer[0-3]) [[ " $orderer_nodes " == *" $1 "* ]] || die "no orderer $1 with CONSENSUS=$CONSENSUS"
      start_orderer "$1" ;;
    peer0.*) start_peer "${1#peer0.}" ;;
    chaincode|chaincode-*) start_chaincode "$(cc_name "$1")" ;;
    *) die "unknown node $1 (nodes: $(nodes | tr '\n' ' '))" ;;
  esac
}

# start_orderer <node>: its TLS certificate serves clients, the cluster and the admin endpoint;
# admin clients must hold a certificate of the node's own organisation's CA. Both orderer
# organisations' CAs are trusted for the cluster (BFT nodes dial each other).
start_orderer() {
  local name="$1" o oo roots="" org
  oo="$(orderer_org "$name")" o="$orgs/$oo/nodes/$name"
  for org in $orderer_orgs; do roots+="${roots:+,}$orgs/$org/msp/tlscacerts/ca.pem"; done
  mkdir -p "$net/data/$name"
  ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 ORDERER_GENERAL_LISTENPORT="$(orderer_port "$name")" \
  ORDERER_GENERAL_LOCALMSPID="$(msp_id "$oo")" ORDERER_GENERAL_LOCALMSPDIR="$o/msp" \
  ORDERER_GENERAL_BOOTSTRAPMETHOD=none ORDERER_CHANNELPARTICIPATION_ENABLED=true \
  ORDERER_GENERAL_TLS_ENABLED=true ORDERER_GENERAL_TLS_CERTIFICATE="$o/tls/server.crt" \
  ORDERER_GENERAL_TLS_PRIVATEKEY="$o/tls/server.key" ORDERER_GENERAL_TLS_ROOTCAS="[$roots]" \
  ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$o/tls/server.crt" \
  ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$o/tls/server.key" ORDERER_GENERAL_CLUSTER_ROOTCAS="[$roots]" \
  ORDERER_ADMIN_LISTENADDRESS="127.0.0.1:$(orderer_port "$name" ADMIN)" ORDERER_ADMIN_TLS_ENABLED=true \
  ORDERER_ADMIN_TLS_CERTIFICATE="$o/tls/server.crt" ORDERER_ADMIN_TLS_PRIVATEKEY="$o/tls/server.key" \
  ORDERER_ADMIN_TLS_ROOTCAS="[$o/tls/ca.crt]" ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true \
  ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$o/tls/ca.crt]" \
  ORDERER_OPERATIONS_LISTENADDRESS="127.0.0.1:$(orderer_port "$name" OPS)" ORDERER_METRICS_PROVIDER=prometheus \
  ORDERER_FILELEDGER_LOCATION="$net/data/$name/ledger" \
  ORDERER_CONSENSUS_WALDIR="$net/data/$name/consensus/wal" ORDERER_CONSENSUS_SNAPDIR="$net/data/$name/consensus/snapshot" \
    start "$name" "$net/data/$name" orderer
}

start_peer() {
  local org="$1" up="PEER_${1^^}" p="$orgs/$1/nodes/peer0" addr
  addr="127.0.0.1:$(port "$up")"
  mkdir -p "$net/data/peer0.$org"
  CORE_PEER_ID="peer0.$org.$DOMAIN" CORE_PEER_LOCALMSPID="$(msp_id "$org")" CORE_PEER_MSPCONFIGPATH="$p/msp" \
  CORE_PEER_LISTENADDRESS="$addr" CORE_PEER_ADDRESS="$addr" \
  CORE_PEER_CHAINCODELISTENADDRESS="127.0.0.1:$(port "${up}_CC")" CORE_PEER_CHAINCODEADDRESS="127.0.0.1:$(port "${up}_CC")" \
  CORE_PEER_GOSSIP_BOOTSTRAP="$addr" CORE_PEER_GOSSIP_ENDPOINT="$addr" CORE_PEER_GOSSIP_EXTERNALENDPOINT="$addr" \
  CORE_PEER_GOSSIP_USELEADERELECTION=false CORE_PEER_GOSSIP_ORGLEADER=true \
  CORE_PEER_GOSSIP_RECONNECTINTERVAL=1s CORE_PEER_GOSSIP_DIALTIMEOUT=1s CORE_PEER_GOSSIP_CONNTIMEOUT=1s \
  CORE_PEER_GOSSIP_ALIVETIMEINTERVAL=1s CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT=5s \
  CORE_PEER_GOSSIP_MEMBERSHIPTRACKERINTERVAL=1s CORE_PEER_GOSSIP_PULLINTERVAL=1s \
  CORE_PEER_GOSSIP_PUBLISHSTATEINFOINTERVAL=1s CORE_PEER_GOSSIP_REQUESTSTATEINFOINTERVAL=1s \
  CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_CERT_FILE="$p/tls/server.crt" CORE_PEER_TLS_KEY_FILE="$p/tls/server.key" \
  CORE_PEER_TLS_ROOTCERT_FILE="$p/tls/ca.crt" CORE_PEER_FILESYSTEMPATH="$net/data/peer0.$org" \
  CORE_PEER_GATEWAY_ENABLED=true CORE_OPERATIONS_LISTENADDRESS="127.0.0.1:$(port "${up}_OPS")" \
  CORE_LEDGER_STATE_STATEDATABASE=goleveldb CORE_LEDGER_HISTORY_ENABLEHISTORYDATABASE=true \
  CORE_CHAINCODE_STARTUPTIMEOUT=30s \
  CORE_PEER_DELIVERYCLIENT_RECONNECTBACKOFFTHRESHOLD=2s \
  CORE_CHAINCODE_EXTERNALBUILDERS="[{name: ccaas, path: $fabric/builders/ccaas}]" \
    start "peer0.$org" "$net/data/peer0.$org" peer node start
}

# start_chaincode <chaincode name>: its CCaaS server, from what deploy.sh recorded (package id,
# contract directory, port).
start_chaincode() {
  local rec="$net/chaincode/$1" id dir cc_bin
  id="$(cat "$rec/package-id" 2>/dev/null)" || die "chaincode $1 is not deployed: run deploy.sh"
  dir="$(cat "$rec/contract-dir")"
  cc_bin="$dir/node_modules/.bin/fabric-chaincode-node"
  [[ -x "$cc_bin" ]] || cc_bin="$repo/node_modules/.bin/fabric-chaincode-node"
  [[ -x "$cc_bin" ]] || die "fabric-chaincode-node not found (npm ci in $repo or in $dir)"
  # The project's pinned Node (24: OpenSSL's ML-DSA), not whatever `node` is first on PATH: from a
  # bare shell that may be an older system Node, which verifies with noble ~10x slower.
  local node_bin="$repo/node_modules/.bin/node"
  [[ -x "$node_bin" ]] || node_bin="$(command -v node)"
  start "$(cc_node "$1")" "$dir" "$node_bin" "$cc_bin" server --chaincode-address="127.0.0.1:$(cat "$rec/port")" --chaincode-id="$id"
}

# The listening port of a node (to wait for after starting it).
node_port() {
  case "$1" in
    orderer|orderer[0-3]) orderer_port "$1" ;;
    peer0.*) local org="${1#peer0.}"; port "PEER_${org^^}" ;;
    chaincode|chaincode-*) cat "$net/chaincode/$(cc_name "$1")/port" ;;
  esac
}
orderer_tls=(--orderer "127.0.0.1:$ORDERER_PORT" --tls --cafile "$net/organizations/orderer/msp/tlscacerts/ca.pem")
