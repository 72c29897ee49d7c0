#!/usr/bin/env bash
# Copies the Caliper identities' certificate and key to fixed names (fabric-ca-client names keys
# after their SKI), under .fabric/network/caliper/. Run from the repository root after
# `npm run fabric:up`.
set -euo pipefail
orgs=.fabric/network/organizations
out=.fabric/network/caliper
for who in org1:torgo-appender:org1-appender org1:torgo-auditor:org1-auditor; do
  IFS=: read -r org user label <<<"$who"
  msp="$orgs/$org/users/$user/msp"
  [[ -d $msp ]] || { echo "prepare.sh: $msp is missing: run npm run fabric:up first" >&2; exit 1; }
  mkdir -p "$out/$label"
  cp "$msp"/signcerts/*.pem "$out/$label/cert.pem"
  keys=("$msp"/keystore/*_sk)
  [[ ${#keys[@]} -eq 1 ]] || { echo "prepare.sh: expected one key in $msp/keystore" >&2; exit 1; }
  install -m 600 "${keys[0]}" "$out/$label/key.pem"
done
echo "Caliper identities in $out"
