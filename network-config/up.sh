#!/usr/bin/env bash
# Brings up the local network on 127.0.0.1: one CA per organisation, one etcdraft orderer, peer0 of
# every application org ($ORGS), and the channel (no system channel: configtxgen + osnadmin channel
# join). Writes connection.json and one ready gateway config per organisation (gateway-<org>.json).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need peer orderer configtxgen osnadmin fabric-ca-server fabric-ca-client node
[[ ! -d "$net" ]] || die "$net exists: run network-config/down.sh first"
t0=$(date +%s%N)

"$here/identities.sh"
"$here/configtx.sh"

log "starting orderer"
start_orderer
for org in $ORGS; do
  log "starting peer0.$org"
  start_peer "$org"
done

o="$orgs/orderer/nodes/orderer" a="$orgs/orderer/users/admin"
wait_port orderer "$ORDERER_ADMIN_PORT"
log "creating channel $CHANNEL"
mkdir -p "$net/channel"
configtxgen -configPath "$net/config" -profile TorgoChannel -channelID "$CHANNEL" \
  -outputBlock "$net/channel/$CHANNEL.block" >>"$net/logs/configtxgen.log" 2>&1 ||
  die "configtxgen failed; see $net/logs/configtxgen.log"
osnadmin channel join --channelID "$CHANNEL" --config-block "$net/channel/$CHANNEL.block" \
  -o "127.0.0.1:$ORDERER_ADMIN_PORT" --ca-file "$o/tls/ca.crt" \
  --client-cert "$a/tls/server.crt" --client-key "$a/tls/server.key" >>"$net/logs/osnadmin.log" 2>&1 ||
  die "osnadmin channel join failed; see $net/logs/osnadmin.log"

for org in $ORGS; do
  wait_port "peer0.$org" "$(port "PEER_${org^^}")"
  (as_admin "$org"
   for i in $(seq 50); do   # the orderer may still be electing itself leader
     peer channel join -b "$net/channel/$CHANNEL.block" >>"$net/logs/peer-cli.log" 2>&1 && exit 0; sleep 0.2
   done; exit 1) || die "peer0.$org could not join $CHANNEL; see $net/logs/peer-cli.log"
  log "peer0.$org joined $CHANNEL"
done

export ORGS CHANNEL CHAINCODE_NAME DOMAIN FABRIC_NETWORK_DIR="$net" $(compgen -v | grep '_PORT$')
node "$here/write-configs.mjs"
log "network up in $(( ($(date +%s%N) - t0) / 1000000 )) ms; gateway configs: $net/gateway-<org>.json"
