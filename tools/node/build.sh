#!/usr/bin/env bash
# A real Kubernetes node for the tests (tests/engine/node.py), built offline:
# - Debian's containerd, runc, CNI plugins and iptables run the pods; docker-registry serves our
#   images to the kubelet, so pods pull them as on any cluster (our specs say imagePullPolicy:
#   Always); docker.io builds the images and runs testcontainers;
# - CoreDNS from its Go module, for the cluster's names;
# - kubelet and kube-proxy from the same k8s.io/kubernetes module as the control plane
#   (tools/controlplane/kubernetes), version-stamped the same way, into .tools/node/bin;
# - the images, from the recipes in tools/node/images.
# Needs root (packages, image builds). Everything is reused when present; a warm run takes seconds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/.tools/node/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

if [ "$(id -u)" != 0 ]; then
  echo "make node: skipped, it needs root (packages, containers); the real-node tests will skip" >&2
  exit 0
fi

timed() {  # timed LABEL CMD...
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "built $label in $((SECONDS - start))s"
}

# One list for what is installed here and what the node fixture checks (tests/engine/node.py).
mapfile -t packages < <(grep -v '^#' "$here/host-packages.tsv" | cut -f1)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  install_packages() {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  }
  timed "packages: ${missing[*]}" install_packages
fi
# Debian starts the services it installs where systemd runs; the tests start their own instances
# with private sockets and state, so system-wide ones are not wanted.
for service in docker-registry docker containerd; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service"
  fi
done

(cd "$root/tools/controlplane/kubernetes" && timed "kubelet kube-proxy" \
  go build -ldflags "$(./ldflags.sh)" -o "$bin/" k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy)

# CoreDNS answers the cluster's names (the database's Service) as it does on minikube and GKE.
# v1.15.0: the newest release the Go module proxy serves here.
GOBIN="$bin" timed coredns go install github.com/coredns/coredns@v1.15.0

"$here/images/build.sh"
du -h "$bin"/* | sort -k2
