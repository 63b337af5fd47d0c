#!/usr/bin/env bash
# Prints the -ldflags that stamp Kubernetes binaries with the version of k8s.io/kubernetes this
# module requires. Unstamped, they call themselves v0.0.0-master and a kubelet registers with
# that as its node version.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$here/go.mod")
IFS=. read -r major minor _ <<<"${version#v}"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  printf -- '-X %s.gitVersion=%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitTreeState=clean ' \
    "$pkg" "$version" "$pkg" "$major" "$pkg" "$minor" "$pkg"
done
