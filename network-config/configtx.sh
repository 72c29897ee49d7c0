#!/usr/bin/env bash
# Writes the network's Fabric configuration into .fabric/network/config/:
#   configtx.yaml  the channel: the application orgs ($ORGS) with anchor peers in the genesis block, and
#                  the ordering service: CONSENSUS=raft one etcdraft orderer (OrdererMSP); CONSENSUS=bft
#                  four SmartBFT orderers of OrdererMSP and Orderer2MSP, channel capability V3_0
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

org() {  # org <dir> <msp id> [anchor peer port]: an application org with a peer, else an orderer org
  cat <<YAML
  - &$2
    Name: $2
    ID: $2
    MSPDir: $orgs/$1/msp
    Policies:
      Readers: { Type: Signature, Rule: "OR('$2.member')" }
      Admins: { Type: Signature, Rule: "OR('$2.admin')" }
YAML
  if [[ -n "${3:-}" ]]; then
    echo "      Writers: { Type: Signature, Rule: \"OR('$2.admin', '$2.client')\" }"
    echo "      Endorsement: { Type: Signature, Rule: \"OR('$2.peer')\" }"
    echo "    AnchorPeers: [ { Host: 127.0.0.1, Port: $3 } ]"
  else
    # Every node of the org is a delivery/broadcast endpoint (BFT: 1:1 with the consenter mapping).
    local n eps=()
    for n in $orderer_nodes; do [[ "$(orderer_org "$n")" == "$1" ]] && eps+=("\"127.0.0.1:$(orderer_port "$n")\""); done
    echo "      Writers: { Type: Signature, Rule: \"OR('$2.member')\" }"
    echo "    OrdererEndpoints: [ $(IFS=,; echo "${eps[*]}") ]"
  fi
}

# The ordering service's part of the Orderer section.
consensus() {
  local n i=0 o
  if [[ "$CONSENSUS" == raft ]]; then
    o="$orgs/orderer/nodes/orderer/tls/server.crt"
    cat <<YAML
  OrdererType: etcdraft
  EtcdRaft:
    Consenters:
      - { Host: 127.0.0.1, Port: $ORDERER_PORT, ClientTLSCert: $o, ServerTLSCert: $o }
    Options: { TickInterval: $RAFT_TICK, ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: 16 MB }
YAML
    return
  fi
  # SmartBFT: each consenter by its id, endpoint, TLS certificates and signing identity (the
  # enrollment certificate its organisation's Fabric CA issued, identities.sh). Blocks need the
  # signatures of a quorum (2f+1 = 3 of 4) of these identities.
  echo "  OrdererType: BFT"
  echo "  ConsenterMapping:"
  for n in $orderer_nodes; do
    i=$((i + 1)) o="$orgs/$(orderer_org "$n")/nodes/$n"
    cat <<YAML
    - ID: $i
      Host: 127.0.0.1
      Port: $(orderer_port "$n")
      MSPID: $(msp_id "$(orderer_org "$n")")
      Identity: $o/msp/signcerts/cert.pem
      ClientTLSCert: $o/tls/server.crt
      ServerTLSCert: $o/tls/server.crt
YAML
  done
  # A SmartBFT block's most requests and bytes come from BatchSize (MaxMessageCount, AbsoluteMaxBytes):
  # Fabric 3 overrides SmartBFT's RequestBatchMaxCount/RequestBatchMaxBytes with them.
  cat <<YAML
  SmartBFT:
    RequestBatchMaxInterval: $BFT_BATCH_MAX_INTERVAL
    RequestForwardTimeout: $BFT_REQUEST_FORWARD_TIMEOUT
    RequestComplainTimeout: $BFT_REQUEST_COMPLAIN_TIMEOUT
    RequestAutoRemoveTimeout: 3m0s
    ViewChangeResendInterval: $BFT_VIEW_CHANGE_RESEND_INTERVAL
    ViewChangeTimeout: $BFT_VIEW_CHANGE_TIMEOUT
    LeaderHeartbeatTimeout: $BFT_LEADER_HEARTBEAT_TIMEOUT
    LeaderHeartbeatCount: 10
    CollectTimeout: 1s
    IncomingMessageBufferSize: 200
    RequestPoolSize: 100000
YAML
}

{
  echo "Organizations:"
  for o in $orderer_orgs; do org "$o" "$(msp_id "$o")"; done
  for o in $ORGS; do org "$o" "$(msp_id "$o")" "$(port "PEER_${o^^}")"; done
  cat <<YAML
Capabilities:
  Channel: &ChannelCapabilities { $([[ "$CONSENSUS" == bft ]] && echo V3_0 || echo V2_0): true }
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
  BatchTimeout: $BATCH_TIMEOUT
  BatchSize: { MaxMessageCount: $BATCH_MAX_MESSAGES, AbsoluteMaxBytes: 99 MB, PreferredMaxBytes: 2 MB }
$(consensus)
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
      Organizations: [ $(for o in $orderer_orgs; do printf '*%s, ' "$(msp_id "$o")"; done | sed 's/, $//') ]
    Application:
      <<: *ApplicationDefaults
      Organizations: [ $(for o in $ORGS; do printf '*%s, ' "$(msp_id "$o")"; done | sed 's/, $//') ]
YAML
} > "$net/config/configtx.yaml"
log "config written to $net/config"
