#!/usr/bin/env bash
# Build a Kubernetes control plane for the engine tests from Go modules into
# .tools/controlplane/bin (git-ignored): etcd 3.6, kube-apiserver, kube-controller-manager and
# kube-scheduler (Kubernetes 1.36, staging modules replaced by their published v0.36 releases)
# and kwok, stamped with their version (kubernetes/ldflags.sh). Go's caches are reused across runs; a warm rebuild takes seconds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/.tools/controlplane/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

timed() {  # timed LABEL CMD...
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "built $label in $((SECONDS - start))s"
}

(cd "$here/etcd" && timed etcd go build -o "$bin/etcd" .)
(cd "$here/kubernetes" && timed "kube-apiserver kube-controller-manager kube-scheduler" \
  go build -ldflags "$(./ldflags.sh)" -o "$bin/" k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
(cd "$here/kwok" && timed kwok go build -o "$bin/kwok" sigs.k8s.io/kwok/cmd/kwok)
du -h "$bin"/* | sort -k2

# cert-manager's CRDs (ClusterIssuer, Certificate), for the engine tests' stand-in chart and the
# manifest checks. v1.19.1 is the newest cert-manager module the Go proxy serves here (v1.21.3,
# the chart we pin, is refused); its cert-manager.io/v1 schemas are the ones our objects use.
crds="$root/.tools/crds"
mkdir -p "$crds"
cert_manager=$(cd /tmp && go mod download -json github.com/cert-manager/cert-manager@v1.19.1 \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
for kind in clusterissuers certificates; do
  install -m 0644 "$cert_manager/deploy/crds/cert-manager.io_$kind.yaml" "$crds/"
done
# The scrape objects' CRDs: ServiceMonitor (Prometheus Operator v0.85.0) and PodMonitoring
# (Google Managed Prometheus, prometheus-engine v0.17.2), each from its Go module.
module_dir() {  # module_dir MODULE@VERSION
  (cd /tmp && go mod download -json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
}
operator=$(module_dir github.com/prometheus-operator/prometheus-operator@v0.85.0)
install -m 0644 "$operator/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" "$crds/"
gmp=$(module_dir github.com/GoogleCloudPlatform/prometheus-engine@v0.17.2)
install -m 0644 "$gmp/charts/operator/crds/monitoring.googleapis.com_podmonitorings.yaml" "$crds/"
ls "$crds"
