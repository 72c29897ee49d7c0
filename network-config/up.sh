#!/usr/bin/env bash
# Brings up the local network on 127.0.0.1: one CA per organisation, the ordering service (CONSENSUS=raft:
# one etcdraft orderer; bft: four SmartBFT orderers of two organisations, Fabric 3.1), peer0 of every
# application org ($ORGS), and the channel (no system channel: configtxgen + osnadmin channel join on
# every orderer). Writes connection.json and one ready gateway config per organisation (gateway-<org>.json).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need peer orderer configtxgen osnadmin fabric-ca-server fabric-ca-client node
check_release
[[ ! -d "$net" ]] || die "$net exists: run network-config/down.sh first"
log "Fabric $FABRIC_VERSION ($fabric), $CONSENSUS ordering: $orderer_nodes"
t0=$(date +%s%N)

"$here/identities.sh"
"$here/configtx.sh"

for n in $orderer_nodes; do
  log "starting $n"
  start_orderer "$n"
done
for org in $ORGS; do
  log "starting peer0.$org"
  start_peer "$org"
done

log "creating channel $CHANNEL"
mkdir -p "$net/channel"
configtxgen -configPath "$net/config" -profile TorgoChannel -channelID "$CHANNEL" \
  -outputBlock "$net/channel/$CHANNEL.block" >>"$net/logs/configtxgen.log" 2>&1 ||
  die "configtxgen failed; see $net/logs/configtxgen.log"
for n in $orderer_nodes; do
  o="$orgs/$(orderer_org "$n")/nodes/$n" a="$orgs/$(orderer_org "$n")/users/admin"
  wait_port "$n" "$(orderer_port "$n" ADMIN)"
  osnadmin channel join --channelID "$CHANNEL" --config-block "$net/channel/$CHANNEL.block" \
    -o "127.0.0.1:$(orderer_port "$n" ADMIN)" --ca-file "$o/tls/ca.crt" \
    --client-cert "$a/tls/server.crt" --client-key "$a/tls/server.key" >>"$net/logs/osnadmin.log" 2>&1 ||
    die "osnadmin channel join on $n failed; see $net/logs/osnadmin.log"
done

for org in $ORGS; do
  wait_port "peer0.$org" "$(port "PEER_${org^^}")"
  (as_admin "$org"
   for i in $(seq 50); do   # the orderers may still be electing a leader
     peer channel join -b "$net/channel/$CHANNEL.block" >>"$net/logs/peer-cli.log" 2>&1 && exit 0; sleep 0.2
   done; exit 1) || die "peer0.$org could not join $CHANNEL; see $net/logs/peer-cli.log"
  log "peer0.$org joined $CHANNEL"
done

export ORGS CHANNEL CHAINCODE_NAME DOMAIN CONSENSUS FABRIC_VERSION FABRIC_NETWORK_DIR="$net" \
  ORDERER_NODES="$orderer_nodes" $(compgen -v | grep '_PORT$')
node "$here/write-configs.mjs"
log "network up in $(( ($(date +%s%N) - t0) / 1000000 )) ms; gateway configs: $net/gateway-<org>.json"
