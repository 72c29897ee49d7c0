#!/usr/bin/env bash
# Starts one Fabric CA per organisation (application and orderer organisations) and issues every
# identity of the local network from it: each org's CA is the root of that org's MSP and also issues its TLS certificates.
#   organizations/<org>/msp                 the org's channel MSP (cacerts, tlscacerts, NodeOUs)
#   organizations/<org>/nodes/<host>/       a node's msp/ and tls/ (server.crt, server.key, ca.crt)
#   organizations/<org>/users/<name>/       a user's msp/ (and tls/ for the orderer admin)
#   wallets/<org>/<org>-<role>.id           each org's service identities with torgo.role (admin,
#                                           appender, auditor, log-operator), fabric-network wallet format
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need fabric-ca-server fabric-ca-client node

secret() { echo "${1}pw"; }   # loopback-only development network: predictable enrollment secrets

start_ca() {
  local org="$1" home="$net/ca/$1" p; p="$(port "CA_${1^^}")"
  mkdir -p "$home"
  start "ca-$org" "$home" fabric-ca-server start -b "registrar:$(secret registrar)" --home "$home" \
    --address 127.0.0.1 --port "$p" --ca.name "ca-$org" --tls.enabled \
    --csr.cn "ca.$org.$DOMAIN" --csr.hosts "127.0.0.1,localhost,ca.$org.$DOMAIN" \
    --operations.listenaddress "127.0.0.1:$(port "CA_${org^^}_OPS")"
}

# ca <org> <home> <fabric-ca-client args...>: the client against <org>'s CA, output in logs/.
ca() {
  local org="$1" home="$2"; shift 2
  FABRIC_CA_CLIENT_HOME="$home" fabric-ca-client "$@" --caname "ca-$org" \
    --tls.certfiles "$net/ca/$org/tls-cert.pem" >>"$net/logs/fabric-ca-client.log" 2>&1 ||
    die "fabric-ca-client $1 failed for $org; see $net/logs/fabric-ca-client.log"
}

# enroll <org> <name> <dir> [tls host]: an MSP (or, with a host, TLS files) for an identity.
enroll() {
  local org="$1" name="$2" dir="$3" host="${4:-}" u
  u="https://$name:$(secret "$name")@127.0.0.1:$(port "CA_${org^^}")"
  if [[ -z "$host" ]]; then
    ca "$org" "$dir" enroll -u "$u" -M "$dir/msp"
    mv "$dir"/msp/cacerts/*.pem "$dir/msp/cacerts/ca.pem"
    rm -rf "$dir"/msp/{IssuerPublicKey,IssuerRevocationPublicKey,user}
    node_ous > "$dir/msp/config.yaml"
  else
    ca "$org" "$dir" enroll -u "$u" -M "$dir/tls-msp" --enrollment.profile tls --csr.hosts "$host,127.0.0.1,localhost"
    mkdir -p "$dir/tls"
    cp "$dir"/tls-msp/signcerts/cert.pem "$dir/tls/server.crt"
    cp "$dir"/tls-msp/keystore/*_sk "$dir/tls/server.key"
    cp "$dir"/tls-msp/tlscacerts/*.pem "$dir/tls/ca.crt"
    rm -rf "$dir/tls-msp"
  fi
  rm -f "$dir/fabric-ca-client-config.yaml"
}

node_ous() {
  echo "NodeOUs:"
  echo "  Enable: true"
  local ou
  for ou in client peer admin orderer; do
    echo "  ${ou^}OUIdentifier:"
    echo "    Certificate: cacerts/ca.pem"
    echo "    OrganizationalUnitIdentifier: $ou"
  done
}

# identity <org> <kind nodes|users> <name> <type> [attrs]: register + enroll.
identity() {
  local org="$1" kind="$2" name="$3" type="$4" attrs="${5:-}" args=()
  [[ -n "$attrs" ]] && args=(--id.attrs "$attrs")
  ca "$org" "$net/ca/$org/registrar" register -u "https://127.0.0.1:$(port "CA_${org^^}")" \
    --id.name "$name" --id.secret "$(secret "$name")" --id.type "$type" "${args[@]}"
  enroll "$org" "$name" "$orgs/$org/$kind/$name"
}

# wallet_entry <org> <user> <label>: a fabric-network file-system wallet entry in the org's wallet.
wallet_entry() {
  local dir="$orgs/$1/users/$2/msp"
  mkdir -p "$net/wallets/$1" && chmod 700 "$net/wallets" "$net/wallets/$1"
  node -e '
    const fs = require("fs"); const [cert, key, mspId, out] = process.argv.slice(1);
    const id = { credentials: { certificate: fs.readFileSync(cert, "utf8"), privateKey: fs.readFileSync(key, "utf8") },
                 mspId, type: "X.509", version: 1 };
    fs.writeFileSync(out, JSON.stringify(id), { mode: 0o600 });
  ' "$dir/signcerts/cert.pem" "$(ls "$dir"/keystore/*_sk)" "$(msp_id "$1")" "$net/wallets/$1/$3.id"
}

log "starting CAs"
for org in $orderer_orgs $ORGS; do start_ca "$org"; done
for org in $orderer_orgs $ORGS; do wait_port "ca-$org" "$(port "CA_${org^^}")" 30; done

for org in $orderer_orgs $ORGS; do
  enroll "$org" registrar "$net/ca/$org/registrar"
  # The org's channel MSP: its CA is the root of trust, for signing and for TLS.
  mkdir -p "$orgs/$org/msp/cacerts" "$orgs/$org/msp/tlscacerts"
  cp "$net/ca/$org/ca-cert.pem" "$orgs/$org/msp/cacerts/ca.pem"
  cp "$net/ca/$org/ca-cert.pem" "$orgs/$org/msp/tlscacerts/ca.pem"
  node_ous > "$orgs/$org/msp/config.yaml"
  identity "$org" users admin admin
done
log "issuing node and user identities"
# Every orderer node's signing identity (its enrollment certificate is also its identity in BFT's
# consenter mapping, configtx.sh) and TLS certificate; each orderer org's admin gets a TLS client
# certificate for osnadmin.
for n in $orderer_nodes; do
  oo="$(orderer_org "$n")"
  identity "$oo" nodes "$n" orderer
  enroll "$oo" "$n" "$orgs/$oo/nodes/$n" "$n.$DOMAIN"
done
for oo in $orderer_orgs; do enroll "$oo" admin "$orgs/$oo/users/admin" "admin.$oo.$DOMAIN"; done
for org in $ORGS; do
  identity "$org" nodes peer0 peer
  enroll "$org" peer0 "$orgs/$org/nodes/peer0" "peer0.$org.$DOMAIN"
done

# Service identities for TORGO: the contract reads torgo.role from the certificate. Every org's gateway
# gets an admin (bootstrap token), a log operator (follows blocks, records checkpoints), an appender
# and an auditor; more are issued through the gateway (`torgo token create`, Fabric CA).
for org in $ORGS; do
  for role in admin log-operator appender auditor; do
    identity "$org" users "torgo-$role" client "torgo.role=$role:ecert"
    wallet_entry "$org" "torgo-$role" "$org-$role"
  done
done
log "identities issued; wallets: $net/wallets/<org>"
