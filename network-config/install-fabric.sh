#!/usr/bin/env bash
# Finds or builds the Fabric binaries this project needs, into <repo>/.fabric (git-ignored, cached):
#   .fabric/bin/                 peer orderer configtxgen osnadmin fabric-ca-server fabric-ca-client
#   .fabric/builders/ccaas/bin/  detect build release (the chaincode-as-a-service external builder)
#   .fabric/config/              Fabric's sampleconfig (core.yaml, orderer.yaml, configtx.yaml)
# A command already on PATH (e.g. from Fabric's release tarball) is linked instead of built;
# FORCE_BUILD=1 ignores PATH. Versions are pinned in versions.env. This is Fabric 2.5 (the default
# network); Fabric 3.1 (FABRIC_VERSION=3.1) is not built or fetched here: see docs/fabric.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/versions.env"
fabric="$(dirname "$here")/.fabric"
bin="$fabric/bin" builder="$fabric/builders/ccaas/bin" src="$fabric/src"
stamp="fabric $FABRIC_25_COMMIT ca v$FABRIC_CA_VERSION"
if [[ -f "$fabric/VERSION" && "$(cat "$fabric/VERSION")" != "$stamp" ]]; then
  echo "versions.env changed: discarding cached binaries"; rm -rf "$bin" "$fabric/builders" "$fabric/config"
fi
mkdir -p "$bin" "$builder"
failed=()

# Uses `go install` inside a throw-away module that requires the pinned upstream module (not
# `go install pkg@version`, which also asks the proxy for the module's version list).
# build <module> <version> <dest dir> <package>...
build() {
  local module="$1" version="$2" dest="$3" dir start; shift 3
  local todo=() pkg
  for pkg in "$@"; do
    local name; name="$(basename "$pkg")"
    if [[ -x "$dest/$name" ]]; then echo "  $name: cached"
    elif [[ "${FORCE_BUILD:-0}" != 1 && "$dest" == "$bin" ]] && command -v "$name" >/dev/null; then
      ln -sf "$(command -v "$name")" "$dest/$name"; echo "  $name: using $(command -v "$name")"
    else todo+=("$pkg"); fi
  done
  [[ ${#todo[@]} -gt 0 ]] || return 0
  dir="$src/$(basename "$module")"; mkdir -p "$dir"
  printf 'module torgo.local/fabric-tools\n\ngo 1.26\n\nrequire %s %s\n' "$module" "$version" > "$dir/go.mod"
  { echo '//go:build tools'; echo; echo 'package tools'; echo; printf 'import _ "%s"\n' "${todo[@]}"; } > "$dir/tools.go"
  start=$(date +%s)
  if (cd "$dir" && go mod tidy && GOBIN="$dest" CGO_ENABLED=1 go install "${todo[@]}"); then
    echo "  ${todo[*]##*/}: built in $(( $(date +%s) - start )) s"
  else
    echo "  FAILED to build ${todo[*]##*/} from $module@$version" >&2; failed+=("$module@$version")
  fi
}

echo "Fabric $FABRIC_25_RELEASE ($FABRIC_25_COMMIT), Fabric CA $FABRIC_CA_VERSION -> $fabric"
total=$(date +%s)
command -v go >/dev/null || [[ -x "$bin/peer" ]] || command -v peer >/dev/null ||
  { echo "Neither Fabric binaries on PATH nor Go to build them" >&2; exit 1; }
fab=github.com/hyperledger/fabric
build $fab "$FABRIC_25_COMMIT" "$bin" $fab/cmd/{peer,orderer,configtxgen,osnadmin}
# Fabric's release tarball ships the CCaaS builder beside bin/; use it when the peer came from there.
release_builder="$(dirname "$(readlink -f "$bin/peer" 2>/dev/null || echo /nonexistent)")/../builders/ccaas/bin"
if [[ ! -x "$builder/detect" && -x "$release_builder/detect" ]]; then
  cp "$release_builder"/{detect,build,release} "$builder/"; echo "  ccaas builder: copied from $release_builder"
else
  build $fab/ccaas_builder "$FABRIC_25_COMMIT" "$builder" $fab/ccaas_builder/cmd/{detect,build,release}
fi
build github.com/hyperledger/fabric-ca "v$FABRIC_CA_VERSION" "$bin" \
  github.com/hyperledger/fabric-ca/cmd/{fabric-ca-server,fabric-ca-client}

# Sample configuration: from the release tarball's config/ beside bin/, else from the Go module cache.
if [[ ! -f "$fabric/config/core.yaml" ]]; then
  cfg="$(dirname "$(readlink -f "$bin/peer" 2>/dev/null || echo /nonexistent)")/../config"
  if [[ ! -f "$cfg/core.yaml" ]]; then
    cfg="$(go mod download -json "$fab@$FABRIC_25_COMMIT" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' || true)/sampleconfig"
  fi
  if [[ -f "$cfg/core.yaml" ]]; then
    mkdir -p "$fabric/config" && cp "$cfg"/{core,orderer,configtx}.yaml "$fabric/config/"
    chmod u+w "$fabric"/config/*.yaml; echo "  sample config: copied from $cfg"
  else
    echo "  FAILED to find Fabric's sampleconfig" >&2; failed+=("sampleconfig")
  fi
fi

echo "took $(( $(date +%s) - total )) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "Not installed: ${failed[*]}. See docs/fabric.md (Installing) for other ways to get Fabric." >&2
  exit 1
fi
echo "$stamp" > "$fabric/VERSION"
