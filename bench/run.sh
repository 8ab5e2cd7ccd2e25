#!/usr/bin/env bash
# Benchmarks paved against ko on the example service, with a throwaway
# registry on loopback so neither tool touches the network.
#
#   bench/run.sh                  # 5 rounds
#   BENCH_ROUNDS=3 bench/run.sh   # fewer rounds, quicker
#
# Results go to stdout and bench/results.md.
set -euo pipefail

# The project will link Trivy, which needs encoding/json/v2.
export GOEXPERIMENT=jsonv2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# Reference tools at pinned versions, built without the experiment so they are
# the stock releases.
if ! command -v ko >/dev/null; then
  echo "installing ko" >&2
  GOEXPERIMENT= go install github.com/google/ko@v0.18.1
fi
if ! command -v crane >/dev/null; then
  echo "installing crane" >&2
  GOEXPERIMENT= go install github.com/google/go-containerregistry/cmd/crane@v0.22.1
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
  -ko "$(command -v ko)" \
  -registry "$registry" \
  -source examples/go-service \
  -work "$work" \
  -rounds "${BENCH_ROUNDS:-5}" \
  -version-runs "${BENCH_VERSION_RUNS:-50}" \
  -out bench/results.md
