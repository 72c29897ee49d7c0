#!/usr/bin/env bash
# Deploys the contract as chaincode-as-a-service on the running network:
# package (metadata.json type ccaas + connection.json) -> install on every peer -> start the contract's
# server -> approve for every org -> commit with the endorsement policy (network.env).
# The contract is run from $CHAINCODE_DIR (default: chaincode/dist, built here first with
# `npm run build:chaincode`): a package.json whose main exports `contracts`. Re-running restarts the
# server with the new code; the definition is only approved and committed again (next sequence) when
# the package changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need peer node
[[ -f "$net/connection.json" ]] || die "the network is not up: run network-config/up.sh"
if [[ -z "${CHAINCODE_DIR:-}" ]]; then
  log "building the contract (npm run build:chaincode)"
  (cd "$repo" && npm run --silent build:chaincode >>"$net/logs/build-chaincode.log" 2>&1) ||
    die "building the contract failed; see $net/logs/build-chaincode.log"
  CHAINCODE_DIR="$repo/chaincode/dist"
fi
CHAINCODE_DIR="$(cd "$CHAINCODE_DIR" 2>/dev/null && pwd)" || die "no chaincode directory $CHAINCODE_DIR"
[[ -f "$CHAINCODE_DIR/package.json" ]] || die "no package.json in $CHAINCODE_DIR"
t0=$(date +%s%N)

# The package holds only where the peer finds the server. Fixed mtimes keep its id stable.
label="${CHAINCODE_NAME}_${CHAINCODE_VERSION}" dir="$net/chaincode/$CHAINCODE_NAME" node="$(cc_node "$CHAINCODE_NAME")"
mkdir -p "$dir/src"
printf '{"address":"127.0.0.1:%s","dial_timeout":"10s","tls_required":false}\n' "$CHAINCODE_PORT" > "$dir/src/connection.json"
printf '{"type":"ccaas","label":"%s"}\n' "$label" > "$dir/src/metadata.json"
tgz() { local out="$1"; shift; tar -C "$dir/src" --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$@" | gzip -n > "$out"; }
tgz "$dir/src/code.tar.gz" connection.json
tgz "$dir/$label.tar.gz" metadata.json code.tar.gz
id="$(peer lifecycle chaincode calculatepackageid "$dir/$label.tar.gz")"

for org in $ORGS; do
  # Checked again after a failed install: a busy peer may have answered the first query late.
  (as_admin "$org"
   installed() { peer lifecycle chaincode queryinstalled 2>/dev/null | grep -qF "$id"; }
   installed || peer lifecycle chaincode install "$dir/$label.tar.gz" >>"$net/logs/peer-cli.log" 2>&1 ||
     installed) ||
    die "install on peer0.$org failed; see $net/logs/peer-cli.log"
done
log "installed $id"

# The contract's server; the peers dial it at 127.0.0.1:$CHAINCODE_PORT. node.sh restarts it from
# what is recorded here.
echo "$id" > "$dir/package-id"
echo "$CHAINCODE_DIR" > "$dir/contract-dir"
echo "$CHAINCODE_PORT" > "$dir/port"
stop "$node"
start_chaincode "$CHAINCODE_NAME"
wait_port "$node" "$CHAINCODE_PORT"
log "$node server running from $CHAINCODE_DIR (log: $net/logs/$node.log)"

# Approve and commit, unless this exact package is already the committed definition.
first="${ORGS%% *}"
committed="$(as_admin "$first"; peer lifecycle chaincode querycommitted -C "$CHANNEL" -n "$CHAINCODE_NAME" -O json 2>/dev/null || true)"
approved="$(as_admin "$first"; peer lifecycle chaincode queryapproved -C "$CHANNEL" -n "$CHAINCODE_NAME" -O json 2>/dev/null || true)"
sequence="$(node -e 'const s = process.argv[1]; console.log(s ? JSON.parse(s).sequence : 0)' "$committed")"
policy="$(endorsement_policy)"
if [[ "$sequence" -gt 0 && "$approved" == *"$id"* ]]; then
  log "definition (sequence $sequence) already uses this package"
else
  sequence=$((sequence + 1))
  definition=(--channelID "$CHANNEL" --name "$CHAINCODE_NAME" --version "$CHAINCODE_VERSION"
              --sequence "$sequence" --signature-policy "$policy")
  for org in $ORGS; do
    (as_admin "$org"
     peer lifecycle chaincode approveformyorg "${orderer_tls[@]}" "${definition[@]}" --package-id "$id" \
       --waitForEvent >>"$net/logs/peer-cli.log" 2>&1) || die "approve for $org failed; see $net/logs/peer-cli.log"
  done
  targets=()
  for org in $ORGS; do
    targets+=(--peerAddresses "127.0.0.1:$(port "PEER_${org^^}")" --tlsRootCertFiles "$orgs/$org/msp/tlscacerts/ca.pem")
  done
  (as_admin "${ORGS%% *}"
   peer lifecycle chaincode commit "${orderer_tls[@]}" "${definition[@]}" "${targets[@]}" \
     >>"$net/logs/peer-cli.log" 2>&1) || die "commit failed; see $net/logs/peer-cli.log"
  log "committed $CHAINCODE_NAME sequence $sequence, endorsement $policy"
fi
log "deployed in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
