"""A real Kubernetes node on this host, joined to the control plane of controlplane.py: pods really
run (containerd + runc, a CNI bridge), Services really route (kube-proxy's iptables rules), names
really resolve (CoreDNS), and images are really pulled (from a registry on loopback that serves
the images built by `make node`).

    python -m tests.engine.node DIR     # start, print the kubeconfig path, wait

Needs root and `make node`. Everything it adds to the host is removed afterwards (host.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from components.shared import versions
from tests.engine import controlplane, node_config
from tests.engine.controlplane import ControlPlane, PlaneOptions
from tests.engine.host import HostState, Owned, recorded_host
from tests.engine.node_config import NODE_IP, NODE_NAME, NodePaths, Ports
from tests.harness import ROOT
from tests.integration.services import free_port, stop_process_group, wait_for_port

NODE_BIN = ROOT / ".tools" / "node" / "bin"
IMAGES = ROOT / ".tools" / "node" / "images"
# Pushed once, then reused: blobs already in it are skipped on the next push.
REGISTRY_STORAGE = ROOT / ".tools" / "node" / "registry"
BINARIES = ("kubelet", "kube-proxy", "coredns")
# image tar -> repository:tag in our registry
IMAGE_TARS = {
    "pause.tar": node_config.PAUSE,
    "mlflow.tar": "mlflow:v3.17.2-full-standin",
    "postgres.tar": "postgres:15-bookworm-standin",
    # The upstream chart asks for quay.io/jetstack/cert-manager-*:<its appVersion>; containerd
    # resolves quay.io through our registry (node_config.registry_mirror), where our builds of
    # the Go module's v1.21.2 (tools/node/images/cert-manager) are pushed under those names.
    **{
        f"cert-manager-{component}.tar": (
            f"jetstack/cert-manager-{component}:{versions.CERT_MANAGER_CHART_VERSION}"
        )
        for component in ("controller", "webhook", "cainjector", "startupapicheck")
    },
}
# Registries whose images the node pulls from ours instead.
MIRRORED_REGISTRIES = ("quay.io",)
NODE_TOKEN = "mlflow-platform-node-token"
PROXY_TOKEN = "mlflow-platform-proxy-token"
# The Debian packages `make node` installs, with what each must bring (a program or a file).
HOST_PACKAGES = ROOT / "tools" / "node" / "host-packages.tsv"

NODE_PLANE = PlaneOptions(
    address=NODE_IP,
    tokens=(
        (NODE_TOKEN, f"system:node:{NODE_NAME}", "system:nodes"),
        (PROXY_TOKEN, "system:kube-proxy", "system:node-proxier"),
    ),
    authorization="Node,RBAC",
    apiserver_args=(
        "--enable-admission-plugins=NodeRestriction",
        # The kubelet's hostname does not resolve here; logs and exec go to its address.
        "--kubelet-preferred-address-types=InternalIP",
    ),
    controllers="*,-nodeipam,-cloud-node-lifecycle,-route,-service",
    kwok=False,
)


def host_packages() -> list[tuple[str, list[str]]]:
    """(package, the programs or files it provides) for each package `make node` installs."""
    rows = [line.split("\t") for line in HOST_PACKAGES.read_text().splitlines()]
    return [(row[0], row[1].split(",")) for row in rows if row[0] and not row[0].startswith("#")]


def _present(provided: str) -> bool:
    return (
        Path(provided).exists() if provided.startswith("/") else shutil.which(provided) is not None
    )


def missing() -> list[str]:
    """What this host lacks to run the node (empty: it can)."""
    lacking = [name for name in BINARIES if not (NODE_BIN / name).exists()]
    lacking += [name for name in IMAGE_TARS if not (IMAGES / name).exists()]
    lacking += [
        f"{provided} (Debian package {package})"
        for package, provides in host_packages()
        for provided in provides
        if not _present(provided)
    ]
    if os.geteuid() != 0:
        lacking.append("root")
    return lacking


@dataclass
class RealNode:
    plane: ControlPlane
    registry: str
    logs: Path
    """The node agents' logs (containerd, kubelet, kube-proxy, the registry)."""

    def image(self, name: str) -> str:
        """Our registry's reference for a built image, e.g. image("mlflow.tar")."""
        return f"{self.registry}/{IMAGE_TARS[name]}"

    def endpoint(self, node_port: int) -> str:
        return f"http://{NODE_IP}:{node_port}"


class Processes:
    """Started processes, stopped in reverse order."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *cmd: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started[name] = process
        return process

    def stop(self, *names: str) -> None:
        """The named processes, or all of them, latest first."""
        for name in reversed(list(self.started)):
            if not names or name in names:
                stop_process_group(self.started.pop(name))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@contextlib.contextmanager
def _registry(paths: NodePaths, processes: Processes) -> Iterator[str]:
    port = free_port()
    address = f"127.0.0.1:{port}"
    REGISTRY_STORAGE.mkdir(parents=True, exist_ok=True)
    config = _write(paths.registry_yaml, node_config.registry_config(REGISTRY_STORAGE, address))
    wait_for_port(port, 30, processes.start("registry", "docker-registry", "serve", str(config)))
    for tar, reference in IMAGE_TARS.items():
        subprocess.run(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                f"docker-archive:{IMAGES / tar}",
                f"docker://{address}/{reference}",
            ],
            check=True,
            capture_output=True,
        )
    yield address


def _start_containerd(paths: NodePaths, processes: Processes, registry: str) -> None:
    _write(paths.registry_hosts / registry / "hosts.toml", node_config.registry_hosts(registry))
    for upstream in MIRRORED_REGISTRIES:
        hosts = node_config.registry_mirror(upstream, registry)
        _write(paths.registry_hosts / upstream / "hosts.toml", hosts)
    _write(paths.cni_conf / "10-mlflow-node.conflist", node_config.cni_network(paths))
    config = _write(paths.containerd_toml, node_config.containerd_config(paths, registry))
    process = processes.start("containerd", "containerd", "--config", str(config))
    deadline = time.monotonic() + 30
    while not paths.containerd_socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"containerd did not start; see {processes.logs / 'containerd.log'}")
        time.sleep(0.2)


def _start_node_agents(plane: ControlPlane, paths: NodePaths, processes: Processes) -> None:
    ports = Ports(free_port(), free_port(), free_port(), free_port())
    kubelet_kubeconfig = _write(
        paths.kubelet_kubeconfig, controlplane.kubeconfig_text(plane.server, NODE_TOKEN)
    )
    _write(paths.proxy_kubeconfig, controlplane.kubeconfig_text(plane.server, PROXY_TOKEN))
    kubelet = _write(paths.kubelet_yaml, node_config.kubelet_config(paths, ports))
    proxy = _write(paths.kube_proxy_yaml, node_config.kube_proxy_config(paths, ports))
    corefile = _write(paths.Corefile, node_config.corefile(plane.kubeconfig, plane.context))
    processes.start("coredns", str(NODE_BIN / "coredns"), "-conf", str(corefile), "-dns.port", "53")
    processes.start(
        "kubelet",
        str(NODE_BIN / "kubelet"),
        f"--config={kubelet}",
        f"--kubeconfig={kubelet_kubeconfig}",
        f"--root-dir={paths.kubelet_root}",
        f"--cert-dir={paths.kubelet_root / 'pki'}",
        f"--hostname-override={NODE_NAME}",
        f"--node-ip={NODE_IP}",
    )
    processes.start("kube-proxy", str(NODE_BIN / "kube-proxy"), f"--config={proxy}")


def _wait_ready(plane: ControlPlane, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node = plane.api("GET", f"/api/v1/nodes/{NODE_NAME}", ok=(200, 404))
        if node.get("kind") != "Node":
            time.sleep(0.5)
            continue
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        taints = [t["key"] for t in node.get("spec", {}).get("taints", [])]
        # The node lifecycle controller lifts the not-ready taint once the kubelet is Ready.
        if conditions.get("Ready") == "True" and controlplane.NOT_READY_TAINT not in taints:
            return
        time.sleep(0.5)
    raise TimeoutError(f"node {NODE_NAME} did not become Ready and schedulable")


# Workload controllers first, so no pod is recreated while the node drains.
CONTROLLERS = (
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/statefulsets",
    "/apis/apps/v1/daemonsets",
    "/apis/apps/v1/replicasets",
    "/apis/batch/v1/cronjobs",
    "/apis/batch/v1/jobs",
    "/api/v1/pods",
)


def _drain(plane: ControlPlane, timeout: float = 60) -> None:
    """Every workload deleted through the API, so the kubelet stops containers the normal way."""
    for collection in CONTROLLERS:
        group, resource = collection.rsplit("/", 1)
        for item in plane.api("GET", collection)["items"]:
            meta = item["metadata"]
            plane.api(
                "DELETE",
                f"{group}/namespaces/{meta['namespace']}/{resource}/{meta['name']}"
                "?gracePeriodSeconds=0&propagationPolicy=Background",
                ok=(200, 202, 404),
            )
    deadline = time.monotonic() + timeout
    while plane.api("GET", "/api/v1/pods")["items"] and time.monotonic() < deadline:
        time.sleep(1)


def _stop_containers(paths: NodePaths) -> None:
    """Whatever is left after the kubelet: containerd's tasks and their shims."""
    ctr = ["ctr", "--address", str(paths.containerd_socket), "-n", "k8s.io"]
    tasks = subprocess.run([*ctr, "tasks", "ls", "-q"], capture_output=True, text=True)
    for task in tasks.stdout.split():
        subprocess.run([*ctr, "tasks", "kill", "-s", "SIGKILL", task], capture_output=True)
    # Shims outlive containerd by design; ours are the ones started with our socket.
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if (
                b"containerd-shim" in cmdline[0]
                and str(paths.containerd_socket).encode() in cmdline
            ):
                os.kill(int(proc.name), signal.SIGKILL)


def _cleanup_proxy_rules() -> None:
    subprocess.run([str(NODE_BIN / "kube-proxy"), "--cleanup"], capture_output=True, check=False)


@contextlib.contextmanager
def real_node(workdir: Path) -> Iterator[RealNode]:
    paths = NodePaths(workdir)
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    processes = Processes(workdir / "logs")
    with recorded_host(Owned(workdir.resolve(), node_config.BRIDGE)) as host:
        _prepare_host(host)
        try:
            with controlplane.control_plane(workdir / "plane", NODE_PLANE) as plane:
                try:
                    with _registry(paths, processes) as registry:
                        _start_containerd(paths, processes, registry)
                        _start_node_agents(plane, paths, processes)
                        _wait_ready(plane)
                        yield RealNode(plane, registry, processes.logs)
                finally:
                    _drain(plane)
                    processes.stop("kube-proxy", "kubelet")
                    _stop_containers(paths)
                    processes.stop()
                    _cleanup_proxy_rules()
        finally:
            processes.stop()


def _prepare_host(host: HostState) -> None:
    host.add_address(f"{NODE_IP}/32", "lo")
    # Pods reach Services and each other through the host: forwarding on while the node runs.
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1")


if __name__ == "__main__":
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "node").resolve()
    with real_node(directory) as running:
        print(f"KUBECONFIG={running.plane.kubeconfig}  (Ctrl-C stops everything)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
