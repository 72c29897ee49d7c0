#!/usr/bin/env bash
# Writes the network's Fabric configuration into .fabric/network/config/:
#   configtx.yaml  the channel: the application orgs ($ORGS), one etcdraft orderer org; anchor peers in
#                  the genesis block
#   core.yaml      Fabric's sample peer config with the Docker endpoint removed (the rest is set per
#                  peer through CORE_* variables in up.sh)
#   orderer.yaml   Fabric's sample orderer config (set through ORDERER_* variables in up.sh)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sample="$fabric/config"
[[ -f "$sample/core.yaml" && -f "$sample/orderer.yaml" ]] || die "no sample config in $sample: run install-fabric.sh"
mkdir -p "$net/config"

# No Docker: an empty vm.endpoint leaves the external (CCaaS) builder as the only one.
sed 's#^\([[:space:]]*endpoint:\) unix:///var/run/docker.sock#\1 ""#' "$sample/core.yaml" > "$net/config/core.yaml"
grep -q '^[[:space:]]*endpoint: ""' "$net/config/core.yaml" || die "vm.endpoint not found in $sample/core.yaml"
cp "$sample/orderer.yaml" "$net/config/orderer.yaml"

org() {  # org <anchor> <msp id> [anchor peer port]: an application org with a peer, else the orderer org
  cat <<YAML
  - &$1
    Name: $2
    ID: $2
    MSPDir: $orgs/${1,,}/msp
    Policies:
      Readers: { Type: Signature, Rule: "OR('$2.member')" }
      Admins: { Type: Signature, Rule: "OR('$2.admin')" }
YAML
  if [[ -n "${3:-}" ]]; then
    echo "      Writers: { Type: Signature, Rule: \"OR('$2.admin', '$2.client')\" }"
    echo "      Endorsement: { Type: Signature, Rule: \"OR('$2.peer')\" }"
    echo "    AnchorPeers: [ { Host: 127.0.0.1, Port: $3 } ]"
  else
    echo "      Writers: { Type: Signature, Rule: \"OR('$2.member')\" }"
    echo "    OrdererEndpoints: [ \"127.0.0.1:$ORDERER_PORT\" ]"
  fi
}

tls="$orgs/orderer/nodes/orderer/tls/server.crt"
{
  echo "Organizations:"
  org Orderer OrdererMSP
  for o in $ORGS; do org "${o^}" "$(msp_id "$o")" "$(port "PEER_${o^^}")"; done
  cat <<YAML
Capabilities:
  Channel: &ChannelCapabilities { V2_0: true }
  Orderer: &OrdererCapabilities { V2_0: true }
  Application: &ApplicationCapabilities { V2_5: true }

Application: &ApplicationDefaults
  Organizations:
  Policies:
    Readers: { Type: ImplicitMeta, Rule: "ANY Readers" }
    Writers: { Type: ImplicitMeta, Rule: "ANY Writers" }
    Admins: { Type: ImplicitMeta, Rule: "MAJORITY Admins" }
    LifecycleEndorsement: { Type: ImplicitMeta, Rule: "MAJORITY Endorsement" }
    Endorsement: { Type: ImplicitMeta, Rule: "MAJORITY Endorsement" }
  Capabilities: *ApplicationCapabilities

Orderer: &OrdererDefaults
  OrdererType: etcdraft
  BatchTimeout: $BATCH_TIMEOUT
  BatchSize: { MaxMessageCount: $BATCH_MAX_MESSAGES, AbsoluteMaxBytes: 99 MB, PreferredMaxBytes: 2 MB }
  EtcdRaft:
    Consenters:
      - { Host: 127.0.0.1, Port: $ORDERER_PORT, ClientTLSCert: $tls, ServerTLSCert: $tls }
    Options: { TickInterval: $RAFT_TICK, ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: 16 MB }
  Organizations:
  Policies:
    Readers: { Type: ImplicitMeta, Rule: "ANY Readers" }
    Writers: { Type: ImplicitMeta, Rule: "ANY Writers" }
    Admins: { Type: ImplicitMeta, Rule: "MAJORITY Admins" }
    BlockValidation: { Type: ImplicitMeta, Rule: "ANY Writers" }
  Capabilities: *OrdererCapabilities

Channel: &ChannelDefaults
  Policies:
    Readers: { Type: ImplicitMeta, Rule: "ANY Readers" }
    Writers: { Type: ImplicitMeta, Rule: "ANY Writers" }
    Admins: { Type: ImplicitMeta, Rule: "MAJORITY Admins" }
  Capabilities: *ChannelCapabilities

Profiles:
  TorgoChannel:
    <<: *ChannelDefaults
    Orderer:
      <<: *OrdererDefaults
      Organizations: [ *Orderer ]
    Application:
      <<: *ApplicationDefaults
      Organizations: [ $(for o in $ORGS; do printf '*%s, ' "${o^}"; done | sed 's/, $//') ]
YAML
} > "$net/config/configtx.yaml"
log "config written to $net/config"
