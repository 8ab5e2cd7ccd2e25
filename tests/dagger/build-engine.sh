#!/usr/bin/env bash
# Builds the Dagger CLI and engine (and the engine's helpers) from the Go
# module proxy into a cache outside the clone, keyed by version, so the
# offline harness can run a real engine without Docker. Prints the folder.
#
#   tests/dagger/build-engine.sh [version]   (default v0.19.7)
#
# `go install github.com/dagger/dagger/cmd/...@VERSION` does not work: the
# module's go.mod replaces two nested modules its zip lacks (sdk/go, served
# as dagger.io/dagger, and engine/distconsts, not served at all). So the
# module is copied out of the module cache and built as the main module,
# with sdk/go taken from dagger.io/dagger and distconsts written here.
set -euo pipefail

version="${1:-v0.19.7}"
base="${PAVED_TEST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/paved-test-tools}"
out="$base/dagger-$version"
bins=(dagger dagger-engine dagger-init codegen dnsname)

built() {
  local b
  for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done
}
if built; then echo "$out"; exit 0; fi

mkdir -p "$base"
exec 9>"$out.lock"
flock 9
if built; then echo "$out"; exit 0; fi

work="$(mktemp -d "$base/dagger-build-XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# The checksum database is not reachable offline; the proxy is.
export GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=0
unset GOEXPERIMENT GOOS GOARCH
modcache="$(go env GOMODCACHE)"
go mod download github.com/dagger/dagger@"$version" dagger.io/dagger@"$version" >&2
src="$work/dagger"
cp -r "$modcache/github.com/dagger/dagger@$version" "$src"
chmod -R u+w "$src"
rm -rf "$src/sdk/go"
cp -r "$modcache/dagger.io/dagger@$version" "$src/sdk/go"
chmod -R u+w "$src/sdk/go"

mkdir -p "$src/engine/distconsts"
cat >"$src/engine/distconsts/go.mod" <<'MOD'
module github.com/dagger/dagger/engine/distconsts

go 1.24
MOD
cat >"$src/engine/distconsts/consts.go" <<'GO'
// Package distconsts holds the constants the engine's distribution is built
// with (the upstream module is not served by the module proxy).
package distconsts

const (
	EngineContainerName   = "dagger-engine.dev"
	DefaultEngineSockAddr = "unix:///run/dagger/engine.sock"
	RuncPath              = "/usr/local/bin/runc"
	DaggerInitPath        = "/usr/local/bin/dagger-init"
	EngineDefaultStateDir = "/var/lib/dagger"

	EngineContainerBuiltinContentDir = "/usr/local/share/dagger/content"
	GoSDKManifestDigestEnvName         = "DAGGER_GO_SDK_MANIFEST_DIGEST"
	PythonSDKManifestDigestEnvName     = "DAGGER_PYTHON_SDK_MANIFEST_DIGEST"
	TypescriptSDKManifestDigestEnvName = "DAGGER_TYPESCRIPT_SDK_MANIFEST_DIGEST"

	AlpineVersion  = "3.22.1"
	AlpineImage    = "alpine:" + AlpineVersion
	GolangVersion  = "1.25.3"
	GolangImage    = "golang:" + GolangVersion + "-alpine"
	BusyboxVersion = "1.37.0"
	BusyboxImage   = "busybox:" + BusyboxVersion

	OCIVersionAnnotation   = "org.opencontainers.image.version"
	EngineCustomCACertsDir = "/usr/local/share/ca-certificates"
)
GO

cd "$src"
mkdir -p "$work/bin"
go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X github.com/dagger/dagger/engine.Version=$version -X github.com/dagger/dagger/engine.Tag=$version" \
  -o "$work/bin/" ./cmd/dagger ./cmd/engine ./cmd/init ./cmd/codegen ./cmd/dnsname >&2
mkdir -p "$out"
mv "$work/bin/engine" "$out/dagger-engine"
mv "$work/bin/init" "$out/dagger-init"
for b in dagger codegen dnsname; do mv "$work/bin/$b" "$out/$b"; done
echo "$out"
