#!/usr/bin/env bash
# Benchmarks paved against ko, and the whole go-service golden path against
# the reference CLIs (go, staticcheck, gosec, ko, crane, syft, trivy,
# govulncheck, cosign), on the
# example service, with a throwaway registry on loopback so no tool touches
# the network.
#
#   bench/run.sh                          # 3 rounds, alternating; medians and spread
#   BENCH_ROUNDS=5 bench/run.sh           # more rounds, steadier medians
#   BENCH_ONLY=reference bench/run.sh     # only go-service vs the reference CLIs
#   BENCH_ONLY=basic bench/run.sh         # only build vs ko, warm vs cold, version
#
# The reference CLIs are built once at pinned versions into
# ${PAVED_BENCH_TOOLS:-$HOME/.cache/paved-bench-tools}.
#
# Results go to stdout and bench/results.md.
set -euo pipefail

# The project will link Trivy, which needs encoding/json/v2.
export GOEXPERIMENT=jsonv2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

only="${BENCH_ONLY:-}"
case "$only" in
  "" | reference | basic) ;;
  *)
    echo "BENCH_ONLY=$only: want reference or basic" >&2
    exit 2
    ;;
esac

# Reference tools at pinned versions, built as their releases are: no
# experiment (except Trivy, which needs encoding/json/v2), no cgo. Each is
# built once into the tools cache and found there afterwards.
tools="${PAVED_BENCH_TOOLS:-$HOME/.cache/paved-bench-tools}"
# tool NAME PACKAGE VERSION [GOEXPERIMENT]: prints the path of NAME built
# from PACKAGE@VERSION, building it on first use.
tool() {
  local name="$1" pkg="$2" version="$3" experiment="${4:-}"
  local dir="$tools/$name-$version"
  if [[ ! -x "$dir/$name" ]]; then
    echo "building $name $version into $dir (once; large tools take minutes)" >&2
    mkdir -p "$dir"
    local tmp
    tmp="$(mktemp -d "$dir/build-XXXXXX")"
    if ! (cd "$tmp" && env -u GOFLAGS -u GOOS -u GOARCH GOEXPERIMENT="$experiment" GOBIN="$tmp" \
      CGO_ENABLED=0 go install -buildvcs=false "$pkg@$version" >&2); then
      rm -rf "$tmp"
      echo "could not build $pkg@$version" >&2
      return 1
    fi
    mv "$tmp/$name" "$dir/$name"
    rm -rf "$tmp"
  fi
  printf '%s\n' "$dir/$name"
}
ko="$(tool ko github.com/google/ko v0.18.1)"
tool_flags=(-ko "$ko")
if [[ "$only" != basic ]]; then
  # The same releases paved links, as go.mod pins them.
  version() { go list -m -f '{{.Version}}' "$1"; }
  v_crane="$(version github.com/google/go-containerregistry)"
  v_cosign="$(version github.com/sigstore/cosign/v3)"
  v_syft="$(version github.com/anchore/syft)"
  v_trivy="$(version github.com/aquasecurity/trivy)"
  v_vuln="$(version golang.org/x/vuln)"
  v_staticcheck="$(version honnef.co/go/tools)"
  v_gosec="$(version github.com/securego/gosec/v2)"
  crane="$(tool crane github.com/google/go-containerregistry/cmd/crane "$v_crane")"
  cosign="$(tool cosign github.com/sigstore/cosign/v3/cmd/cosign "$v_cosign")"
  syft="$(tool syft github.com/anchore/syft/cmd/syft "$v_syft")"
  trivy="$(tool trivy github.com/aquasecurity/trivy/cmd/trivy "$v_trivy" jsonv2)"
  govulncheck="$(tool govulncheck golang.org/x/vuln/cmd/govulncheck "$v_vuln")"
  staticcheck="$(tool staticcheck honnef.co/go/tools/cmd/staticcheck "$v_staticcheck")"
  gosec="$(tool gosec github.com/securego/gosec/v2/cmd/gosec "$v_gosec")"
  tool_flags+=(
    -crane "$crane" -cosign "$cosign" -syft "$syft" -trivy "$trivy" -govulncheck "$govulncheck"
    -staticcheck "$staticcheck" -gosec "$gosec"
    -tool-versions "crane $v_crane · cosign $v_cosign · syft $v_syft · trivy $v_trivy (GOEXPERIMENT=jsonv2) · govulncheck $v_vuln · staticcheck $v_staticcheck · gosec $v_gosec"
  )
fi
command -v docker-registry >/dev/null || {
  echo "docker-registry (CNCF distribution) is required: apt-get install docker-registry" >&2
  exit 1
}

work="$(mktemp -d)"
registry_pid=""
cleanup() {
  if [[ -n "$registry_pid" ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building paved and paved-worker" >&2
go build -o "$work/" ./cmd/paved ./cmd/paved-worker ./examples/vulndb
# The scan step runs air-gapped on the invented demo database.
"$work/vulndb" -o "$work/vulndb-data"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pick a free port, start the registry and wait until it answers; retry on
# another port if something else took it meanwhile.
start_registry() {
  local port attempt i
  mkdir -p "$work/registry"
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    listening "$port" && continue
    cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
    docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
    registry_pid=$!
    for i in $(seq 100); do
      if ! kill -0 "$registry_pid" 2>/dev/null; then
        break
      fi
      if listening "$port"; then
        registry="127.0.0.1:$port"
        return 0
      fi
      sleep 0.1
    done
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
    registry_pid=""
  done
  echo "could not start docker-registry:" >&2
  cat "$work/registry.log" >&2 || true
  return 1
}
start_registry
echo "registry on $registry" >&2

go run ./bench/driver \
  -paved "$work/paved" \
  -vuln-db "$work/vulndb-data" \
  "${tool_flags[@]}" \
  -only "$only" \
  -registry "$registry" \
  -source examples/go-service \
  -work "$work" \
  -rounds "${BENCH_ROUNDS:-3}" \
  -version-runs "${BENCH_VERSION_RUNS:-50}" \
  -out bench/results.md
