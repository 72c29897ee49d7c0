#!/usr/bin/env bash
# Prepares a Caliper run against the running network (network-config/, same FABRIC_NETWORK_DIR and
# PORT_OFFSET as `npm run fabric:up`), under $FABRIC_NETWORK_DIR/caliper/:
#   - the identities' certificate and key at fixed names (fabric-ca-client names keys by SKI);
#   - torgo-fabric.yaml and org1-ccp.yaml from the templates in networks/, with network.env's ports
#     and the network directory filled in.
# Run from anywhere after `npm run fabric:up` and the two deploys (README.md).
set -euo pipefail
caliper_dir="$(cd "$(dirname "$0")" && pwd)"
source "$caliper_dir/../../network-config/lib.sh"
orgs_dir="$net/organizations"
out="$net/caliper"
for who in org1:torgo-appender:org1-appender org1:torgo-auditor:org1-auditor; do
  IFS=: read -r org user label <<<"$who"
  msp="$orgs_dir/$org/users/$user/msp"
  [[ -d $msp ]] || die "prepare.sh: $msp is missing: run npm run fabric:up first"
  mkdir -p "$out/$label"
  cp "$msp"/signcerts/*.pem "$out/$label/cert.pem"
  keys=("$msp"/keystore/*_sk)
  [[ ${#keys[@]} -eq 1 ]] || die "prepare.sh: expected one key in $msp/keystore"
  install -m 600 "${keys[0]}" "$out/$label/key.pem"
done
export FABRIC_NETWORK_DIR="$net" CHANNEL DOMAIN PEER_ORG1_PORT
for f in torgo-fabric.yaml org1-ccp.yaml; do
  envsubst '${FABRIC_NETWORK_DIR} ${CHANNEL} ${DOMAIN} ${PEER_ORG1_PORT}' <"$caliper_dir/networks/$f" >"$out/$f"
done
echo "Caliper identities and network files in $out"
