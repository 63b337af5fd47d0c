#!/usr/bin/env bash
# Build the Pulumi engine toolchain from Go modules into .tools/engine/bin (git-ignored).
# Go's own caches (GOCACHE, GOMODCACHE) are reused across runs: a warm rebuild takes seconds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/.tools/engine/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

module_dir() {  # module_dir DIR MODULE: where MODULE (as DIR's go.mod pins it) is unpacked
  # `go list -m` reports .Dir only once the module is in the cache: download it first.
  (cd "$1" && go mod download "$2" && go list -m -f '{{.Dir}}' "$2")
}

timed() {  # timed LABEL CMD...: run, then report seconds and the binary size
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "built $label in $((SECONDS - start))s ($(du -h "$bin/$label" | cut -f1))"
}

cli_version=v3.259.0
(cd "$here/cli" && timed pulumi go build \
  -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli_version" \
  -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)

# The language host from sdk v3.79.0 goes to libexec/; on PATH, our shim (langshim/main.go)
# starts it and passes it the policy pack that CLI 3.259 names in a field it predates.
mkdir -p "$root/.tools/engine/libexec"
(cd "$here/langhost" && timed ../libexec/pulumi-language-python go build \
  -o "$root/.tools/engine/libexec/pulumi-language-python" \
  github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
(cd "$here/langshim" && timed pulumi-language-python go build -o "$bin/pulumi-language-python" .)

# The Kubernetes provider: the module ships schema.json unversioned; embed a versioned copy.
k8s_version=4.25.0
k8s_dir=$(module_dir "$here/kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4)
python3 - "$k8s_dir/cmd/pulumi-resource-kubernetes/schema.json" "$here/kubernetes/schema-embed.json" \
  "$k8s_version" <<'PY'
import json, sys
source, target, version = sys.argv[1:]
schema = json.load(open(source))
schema["version"] = version
with open(target, "w") as out:
    json.dump(schema, out)
PY
install -m 0644 "$k8s_dir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" \
  "$here/kubernetes/terraform-mapping-embed.json"
(cd "$here/kubernetes" && timed pulumi-resource-kubernetes go build \
  -ldflags "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$k8s_version" \
  -o "$bin/pulumi-resource-kubernetes" .)

# random (RandomPassword) and command (local:Command) for the engine tests: our own small
# providers, because the upstream modules are not served. Versions match the Python SDK pins.
(cd "$here/providers" && timed pulumi-resource-random go build \
  -ldflags "-X main.version=4.21.4" -o "$bin/pulumi-resource-random" ./random)
(cd "$here/providers" && timed pulumi-resource-command go build \
  -ldflags "-X main.version=1.2.1" -o "$bin/pulumi-resource-command" ./command)

# The exec shim is a Python script shipped in the sdk module next to the language host.
sdk_dir=$(module_dir "$here/cli" github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"

"$bin/pulumi" version
