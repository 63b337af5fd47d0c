#!/usr/bin/env bash
# The test node's container images, built offline from the recipes beside this script into
# .tools/node/images/<name>.tar (docker-archive, git-ignored):
#   pause.tar    localhost/pause:3.10                       pause/    (our static Go pause)
#   postgres.tar localhost/postgres:15-bookworm-standin     postgres/ (Debian's postgresql-15)
#   mlflow.tar   localhost/mlflow:v<MLFLOW_VERSION>-full-standin  mlflow/
#   cert-manager-{controller,webhook,cainjector,startupapicheck}.tar
#                localhost/cert-manager-<name>:<module version>  cert-manager/ (static Go binaries)
# postgres and mlflow build on localhost/debian:bookworm, a debootstrap minbase root filesystem
# (debian/rootfs.conf) cached in .tools/node/rootfs. Each recipe's header says which upstream
# image it stands in for, what it reproduces and what differs.
# An image is rebuilt only when its tar is missing or its recipe hash (its directory, its base's
# hash and its pins) changed; the hash sits beside the tar. Builds run in a private dockerd
# (tools/node/dockerd.py) whose layer cache persists in .tools/node/docker. Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="$root/.tools/node/images"
rootfs="$root/.tools/node/rootfs"
docker_root="$root/.tools/node/docker"
hash_label=org.mlflow-platform.recipe-hash

mlflow_version="$(sed -n 's/^MLFLOW_VERSION: Final = "\(.*\)"$/\1/p' "$root/components/shared/versions.py")"
[ -n "$mlflow_version" ] || { echo "MLFLOW_VERSION not found in components/shared/versions.py" >&2; exit 1; }
declare -A tags=(
  [pause]=localhost/pause:3.10
  [postgres]=localhost/postgres:15-bookworm-standin
  [mlflow]="localhost/mlflow:v$mlflow_version-full-standin"
)
names=(pause postgres mlflow)
# cert-manager's version is its Go module's, pinned in cert-manager/go.mod (the reason is there).
cert_manager_version="$(awk '$1 == "require" && $2 == "github.com/cert-manager/cert-manager" {print $3}' \
  "$here/cert-manager/go.mod")"
[ -n "$cert_manager_version" ] || { echo "cert-manager's version not found in cert-manager/go.mod" >&2; exit 1; }
for component in controller webhook cainjector startupapicheck; do
  tags[cert-manager-$component]="localhost/cert-manager-$component:$cert_manager_version"
  names+=("cert-manager-$component")
done
# shellcheck source-path=SCRIPTDIR source=debian/rootfs.conf
. "$here/debian/rootfs.conf"

timed() {  # timed LABEL CMD...
  local label=$1 start=$SECONDS
  shift
  "$@"
  echo "$label: $((SECONDS - start))s"
}

dir_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64
}

# The first Debian mirror this machine's apt uses (deb822 sources, then one-line sources).
mirror() {
  local uri
  uri="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2; exit}')"
  [ -n "$uri" ] || uri="$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2; exit}')"
  echo "${uri:-http://deb.debian.org/debian}"
}

debian_hash() {
  printf '%s\n' "$(dir_hash "$here/debian")" "$suite" "$variant" | sha256sum | cut -c1-64
}

recipe_hash() {  # recipe_hash NAME
  case $1 in
    pause) printf '%s\n' "$(dir_hash "$here/pause")" "$(go version)" ;;
    postgres) printf '%s\n' "$(dir_hash "$here/postgres")" "$(debian_hash)" ;;
    mlflow) printf '%s\n' "$(dir_hash "$here/mlflow")" "$mlflow_version" "$(debian_hash)" ;;
    cert-manager-*) printf '%s\n' "$1" "$(dir_hash "$here/cert-manager")" "$(go version)" ;;
  esac | sha256sum | cut -c1-64
}

up_to_date() {  # up_to_date NAME
  [ -s "$out/$1.tar" ] && [ "$(cat "$out/$1.hash" 2>/dev/null)" = "$(recipe_hash "$1")" ]
}

# The minbase root filesystem, kept until its recipe changes.
ensure_rootfs() {
  local dir="$rootfs/$suite" want
  want="$(debian_hash)"
  if [ -d "$dir" ] && [ "$(cat "$dir.hash" 2>/dev/null)" = "$want" ]; then
    return
  fi
  rm -rf "$dir" "$dir.part" "$dir.hash"
  mkdir -p "$rootfs"
  debootstrap --variant="$variant" "$suite" "$dir.part" "$(mirror)" >"$rootfs/debootstrap.log" 2>&1 \
    || { tail -20 "$rootfs/debootstrap.log" >&2; exit 1; }
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    install -m 0644 /etc/apt/sources.list.d/debian.sources "$dir.part/etc/apt/sources.list.d/"
    rm -f "$dir.part/etc/apt/sources.list"
  fi
  rm -rf "$dir.part"/var/cache/apt/archives/*.deb "$dir.part"/var/lib/apt/lists/*
  mv "$dir.part" "$dir"
  echo "$want" >"$dir.hash"
}

# --- with the private dockerd running (DOCKER_HOST set) ---------------------------------------

# The docker 28 client builds with BuildKit through buildx, which Debian's docker.io does not
# ship; dockerd 20.10's classic builder needs nothing more.
export DOCKER_BUILDKIT=0

import_base() {
  local want
  want="$(debian_hash)"
  if [ "$(docker image inspect -f "{{index .Config.Labels \"$hash_label\"}}" \
    localhost/debian:bookworm 2>/dev/null)" = "$want" ]; then
    return
  fi
  tar -C "$rootfs/$suite" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' -c "LABEL $hash_label=$want" - localhost/debian:bookworm >/dev/null
}

build_image() {  # build_image NAME TAG CONTEXT [docker build args...]
  local name=$1 tag=$2 context=$3
  shift 3
  docker build --network host --label "$hash_label=$(recipe_hash "$name")" \
    -t "$tag" "$@" "$context" >>"$out/$name.build.log" 2>&1 \
    || { tail -30 "$out/$name.build.log" >&2; exit 1; }
}

build_pause() {
  cp -a "$here/pause" "$1/pause"
  (cd "$here/pause" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags='-s -w' -o "$1/pause/pause" .)
  build_image pause "${tags[pause]}" "$1/pause"
}

# One static binary per image; the four share the module's build cache.
build_cert_manager() {  # build_cert_manager COMPONENT CONTEXT
  local component=$1 context=$2/cert-manager-$1
  mkdir -p "$context"
  cp "$here/cert-manager/Dockerfile" "$context/"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "$context/"
  (cd "$here/cert-manager" && timed "go build cert-manager $component" env CGO_ENABLED=0 \
    GOFLAGS=-buildvcs=false go build -trimpath -ldflags='-s -w' -o "$context/$component" "./$component")
  build_image "cert-manager-$component" "${tags[cert-manager-$component]}" "$context" \
    --build-arg "BINARY=$component"
}

build_cert-manager-controller() { build_cert_manager controller "$1"; }
build_cert-manager-webhook() { build_cert_manager webhook "$1"; }
build_cert-manager-cainjector() { build_cert_manager cainjector "$1"; }
build_cert-manager-startupapicheck() { build_cert_manager startupapicheck "$1"; }

build_postgres() {
  cp -a "$here/postgres" "$1/postgres"
  build_image postgres "${tags[postgres]}" "$1/postgres"
}

build_mlflow() {
  cp -a "$here/mlflow" "$1/mlflow"
  # pip inside the build trusts what pip on this machine trusts (PIP_CERT or the system bundle).
  install -m 0644 "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$1/mlflow/host-ca.crt"
  # The pip stage, tagged so that `docker image prune` below keeps it as the next build's cache.
  build_image mlflow localhost/mlflow-build-stage:cache "$1/mlflow" \
    --build-arg "VERSION=$mlflow_version" --target build
  build_image mlflow "${tags[mlflow]}" "$1/mlflow" --build-arg "VERSION=$mlflow_version"
}

save_image() {  # save_image NAME
  docker save -o "$out/$1.tar.part" "${tags[$1]}"
  mv "$out/$1.tar.part" "$out/$1.tar"
  recipe_hash "$1" >"$out/$1.hash"
  echo "$1: ${tags[$1]} -> $out/$1.tar ($(du -h "$out/$1.tar" | cut -f1))"
}

with_docker() {  # with_docker NAME...
  local name
  # Global: the EXIT trap runs after this function has returned.
  context="$(mktemp -d)"
  trap 'rm -rf "$context"' EXIT
  if [[ " $* " == *" postgres "* || " $* " == *" mlflow "* ]]; then
    timed "import localhost/debian:$suite" import_base
  fi
  for name in "$@"; do
    : >"$out/$name.build.log"
    timed "build $name" "build_$name" "$context"
    timed "save $name" save_image "$name"
  done
  docker image prune -f >/dev/null
}

if [ "${1:-}" = --with-docker ]; then
  shift
  with_docker "$@"
  exit
fi

# --- entry ------------------------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
  echo "building the node's images needs root (debootstrap, dockerd)" >&2
  exit 1
fi
start=$SECONDS
mkdir -p "$out"
stale=()
for name in "${names[@]}"; do
  if up_to_date "$name"; then
    echo "$name: up to date (${tags[$name]})"
  else
    stale+=("$name")
  fi
done
if [ ${#stale[@]} -gt 0 ]; then
  if [[ " ${stale[*]} " == *" postgres "* || " ${stale[*]} " == *" mlflow "* ]]; then
    timed "rootfs $suite ($variant)" ensure_rootfs
  fi
  python3 "$here/../dockerd.py" --data-root "$docker_root" -- "$0" --with-docker "${stale[@]}"
fi
echo "images: $((SECONDS - start))s"
