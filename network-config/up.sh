#!/usr/bin/env bash
# Brings up the local network on 127.0.0.1: three CAs, one etcdraft orderer, peer0 of Org1 and Org2,
# and the channel (no system channel: configtxgen + osnadmin channel join). Writes connection.json.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need peer orderer configtxgen osnadmin fabric-ca-server fabric-ca-client node
[[ ! -d "$net" ]] || die "$net exists: run network-config/down.sh first"
t0=$(date +%s%N)

"$here/identities.sh"
"$here/configtx.sh"

log "starting orderer"
o="$orgs/orderer/nodes/orderer" a="$orgs/orderer/users/admin"
mkdir -p "$net/data/orderer"
ORDERER_GENERAL_LISTENADDRESS=127.0.0.1 ORDERER_GENERAL_LISTENPORT="$ORDERER_PORT" \
ORDERER_GENERAL_LOCALMSPID=OrdererMSP ORDERER_GENERAL_LOCALMSPDIR="$o/msp" \
ORDERER_GENERAL_BOOTSTRAPMETHOD=none ORDERER_CHANNELPARTICIPATION_ENABLED=true \
ORDERER_GENERAL_TLS_ENABLED=true ORDERER_GENERAL_TLS_CERTIFICATE="$o/tls/server.crt" \
ORDERER_GENERAL_TLS_PRIVATEKEY="$o/tls/server.key" ORDERER_GENERAL_TLS_ROOTCAS="[$o/tls/ca.crt]" \
ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$o/tls/server.crt" \
ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$o/tls/server.key" ORDERER_GENERAL_CLUSTER_ROOTCAS="[$o/tls/ca.crt]" \
ORDERER_ADMIN_LISTENADDRESS="127.0.0.1:$ORDERER_ADMIN_PORT" ORDERER_ADMIN_TLS_ENABLED=true \
ORDERER_ADMIN_TLS_CERTIFICATE="$o/tls/server.crt" ORDERER_ADMIN_TLS_PRIVATEKEY="$o/tls/server.key" \
ORDERER_ADMIN_TLS_ROOTCAS="[$o/tls/ca.crt]" ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true \
ORDERER_ADMIN_TLS_CLIENTROOTCAS="[$o/tls/ca.crt]" \
ORDERER_OPERATIONS_LISTENADDRESS="127.0.0.1:$ORDERER_OPS_PORT" \
ORDERER_FILELEDGER_LOCATION="$net/data/orderer/ledger" \
ORDERER_CONSENSUS_WALDIR="$net/data/orderer/etcdraft/wal" ORDERER_CONSENSUS_SNAPDIR="$net/data/orderer/etcdraft/snapshot" \
  start orderer "$net/data/orderer" orderer

for org in org1 org2; do
  log "starting peer0.$org"
  up="PEER_${org^^}" p="$orgs/$org/nodes/peer0" addr="127.0.0.1:$(port "PEER_${org^^}")"
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
  CORE_CHAINCODE_EXTERNALBUILDERS="[{name: ccaas, path: $fabric/builders/ccaas}]" \
    start "peer0.$org" "$net/data/peer0.$org" peer node start
done

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

for org in org1 org2; do
  wait_port "peer0.$org" "$(port "PEER_${org^^}")"
  (as_admin "$org"
   for i in $(seq 50); do   # the orderer may still be electing itself leader
     peer channel join -b "$net/channel/$CHANNEL.block" >>"$net/logs/peer-cli.log" 2>&1 && exit 0; sleep 0.2
   done; exit 1) || die "peer0.$org could not join $CHANNEL; see $net/logs/peer-cli.log"
  log "peer0.$org joined $CHANNEL"
done

# What a gateway client needs, for each org (paths are absolute).
node -e '
  const [net, channel, chaincode, domain, p1, p2, ca1, ca2, ordererPort] = process.argv.slice(1);
  const org = (name, peerPort, caPort) => ({
    mspId: name[0].toUpperCase() + name.slice(1) + "MSP",
    peerEndpoint: `127.0.0.1:${peerPort}`,
    tlsCACertPath: `${net}/organizations/${name}/msp/tlscacerts/ca.pem`,
    hostnameOverride: `peer0.${name}.${domain}`,
    walletPath: `${net}/wallet`,
    identities: require("fs").readdirSync(`${net}/wallet`).filter((f) => f.startsWith(`${name}-`)).map((f) => f.slice(0, -3)),
    ca: { url: `https://127.0.0.1:${caPort}`, caName: `ca-${name}`, tlsCACertPath: `${net}/ca/${name}/tls-cert.pem`,
          registrarHome: `${net}/ca/${name}/registrar` },
  });
  const connection = {
    channel, chaincode,
    orderer: { endpoint: `127.0.0.1:${ordererPort}`, tlsCACertPath: `${net}/organizations/orderer/msp/tlscacerts/ca.pem`,
               hostnameOverride: `orderer.${domain}` },
    organizations: [org("org1", p1, ca1), org("org2", p2, ca2)],
  };
  require("fs").writeFileSync(`${net}/connection.json`, JSON.stringify(connection, null, 2) + "\n");
' "$net" "$CHANNEL" "$CHAINCODE_NAME" "$DOMAIN" "$PEER_ORG1_PORT" "$PEER_ORG2_PORT" "$CA_ORG1_PORT" "$CA_ORG2_PORT" "$ORDERER_PORT"
log "network up in $(( ($(date +%s%N) - t0) / 1000000 )) ms; connection details: $net/connection.json"
