#!/bin/sh
# Runs a Dagger engine on the host, isolated: started by the harness as
#
#   unshare --mount --propagation private --net --pid --fork --mount-proc \
#     --kill-child=SIGTERM sh engine.sh TOOLS SCRATCH SOCK CONTENT GOMODDL PROXYPORT
#
# so what the engine changes at start (/etc/resolv.conf, sockets under /run,
# iptables rules, a bridge) stays in its own mount and network namespaces,
# and everything it starts dies with this script (PID 1 of its namespace):
# stop it with SIGTERM to that PID (unshare itself ignores SIGTERM).
#   TOOLS     dagger-engine, dagger-init and dnsname (tests/dagger/build-engine.sh)
#   SCRATCH   an empty directory for the engine's state and overlay layers
#   SOCK      the unix socket clients connect to
#   CONTENT   the OCI layout the engine reads the Go SDK's image from
#   GOMODDL   a Go module download cache, served as the engine's GOPROXY
#   PROXYPORT the port it is served on (inside this network namespace)
set -eu
# Stopped by SIGTERM to this script: the engine gets it and is waited for;
# then this script (PID 1) exits and the kernel ends the rest.
engine=
stop() {
  if [ -n "$engine" ]; then kill -TERM "$engine" 2>/dev/null || true; wait "$engine" || true; fi
  exit 0
}
trap stop TERM INT
tools=$1 scratch=$2 sock=$3 content=$4 gomoddl=$5 port=$6
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
runc=$(command -v runc)

ip link set lo up

# A sysfs of this network namespace (the engine reads its interfaces'
# statistics there), keeping the cgroup hierarchy mounted on top of it.
mkdir -p "$scratch/cgroup"
mount --move /sys/fs/cgroup "$scratch/cgroup"
mount -t sysfs sysfs /sys
mount --move "$scratch/cgroup" /sys/fs/cgroup

mount -t tmpfs tmpfs /run
for d in /etc /usr/local/bin /usr/local/share; do
  n=$(echo "$d" | tr / _)
  mkdir -p "$scratch/upper$n" "$scratch/work$n"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$scratch/upper$n,workdir=$scratch/work$n" "$d"
done
cp "$runc" /usr/local/bin/runc
cp "$tools/dagger-init" /usr/local/bin/dagger-init
mkdir -p /usr/local/share/dagger/content
mount --bind "$content" /usr/local/share/dagger/content

mkdir -p "$scratch/cni"
for p in /usr/lib/cni/*; do ln -s "$p" "$scratch/cni/"; done
cp "$tools/dnsname" "$scratch/cni/dnsname"

# The engine's Go SDK and module builds fetch modules from here.
busybox httpd -f -p "0.0.0.0:$port" -h "$gomoddl" &

"$tools/dagger-engine" --root "$scratch/state" --addr "unix://$sock" --oci-cni-binary-dir "$scratch/cni" &
engine=$!
wait $engine || true
