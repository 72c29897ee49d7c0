#!/usr/bin/env bash
# Shows which network processes run, each peer's and orderer's channel height, and the committed chaincode.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[[ -d "$net" ]] || { echo "network is down"; exit 1; }
down=0
for name in $(for org in $orderer_orgs $ORGS; do echo "ca-$org"; done) $(nodes); do
  if running "$name"; then printf '%-12s running (pid %s)\n' "$name" "$(cat "$net/pids/$name.pid")"
  elif [[ -f "$net/pids/$name.pid" ]]; then printf '%-12s STOPPED (see logs/%s.log)\n' "$name" "$name"; down=1
  else printf '%-12s not started\n' "$name"; fi
done
if command -v peer >/dev/null; then
  for org in $ORGS; do
    running "peer0.$org" || continue
    printf 'peer0.%s on %s: %s\n' "$org" "$CHANNEL" \
      "$(as_admin "$org"; peer channel getinfo -c "$CHANNEL" 2>/dev/null | sed -n 's/.*"height":\([0-9]*\).*/height \1/p')"
  done
  for n in $orderer_nodes; do   # the orderer's own view of the channel (channel participation API)
    running "$n" || continue
    oo="$(orderer_org "$n")"
    printf '%s on %s: %s\n' "$n" "$CHANNEL" "$(osnadmin channel list --channelID "$CHANNEL" \
      -o "127.0.0.1:$(orderer_port "$n" ADMIN)" --ca-file "$orgs/$oo/nodes/$n/tls/ca.crt" \
      --client-cert "$orgs/$oo/users/admin/tls/server.crt" --client-key "$orgs/$oo/users/admin/tls/server.key" 2>/dev/null |
      tr -d '\n ' | sed -n 's/.*"status":"\([a-z]*\)".*"height":\([0-9]*\).*/height \2 (\1)/p')"
  done
  first="${ORGS%% *}"
  running "peer0.$first" && (as_admin "$first"; peer lifecycle chaincode querycommitted -C "$CHANNEL" 2>/dev/null | tail -n +2) || true
fi
echo "logs: $net/logs"
exit "$down"
