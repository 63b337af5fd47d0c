"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, controller-manager,
scheduler and kwok (fake nodes whose pods become Running and Ready).

    python -m tests.engine.controlplane DIR     # start, print the kubeconfig path, wait
The binaries come from `make controlplane` (tools/controlplane/build.sh).
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3

from tests.harness import ROOT
from tests.integration.services import LOOPBACK, free_port, stop_process_group, wait_for_port

BIN = ROOT / ".tools" / "controlplane" / "bin"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
TOKEN = "mlflow-platform-admin-token"
CONTEXT = "controlplane"
NODE = "kwok-node-0"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
NO_WEBHOOK_CALLS = (
    "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
)


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if not (BIN / name).exists()]


@dataclass(frozen=True)
class PlaneOptions:
    """How the control plane starts; the defaults give kwok's fake node on loopback."""

    address: str = LOOPBACK
    # More users of the static token file: (token, user, groups).
    tokens: tuple[tuple[str, str, str], ...] = ()
    authorization: str = "RBAC"
    apiserver_args: tuple[str, ...] = ()
    # kwok's node has its not-ready taint lifted by hand (_add_fake_node); a real node needs the
    # node lifecycle controller, which lifts it once the kubelet reports Ready.
    controllers: str = "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-route,-service"
    # With kwok no container runs, so no admission webhook has a server behind it: the API server
    # is started without the two webhook admission plugins. The charts' webhook configurations are
    # still created, served and deleted like any object; only the calls are not made.
    kwok: bool = True


@dataclass
class ControlPlane:
    server: str
    kubeconfig: Path
    context: str = CONTEXT

    def api(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> dict[str, Any]:
        urllib3.disable_warnings()
        response = requests.request(
            method,
            self.server + path,
            json=body,
            timeout=30,
            headers={"Authorization": f"Bearer {TOKEN}"},
            verify=False,
        )
        if response.status_code not in ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.text else {}

    def exists(self, path: str) -> bool:
        return bool(self.api("GET", path, ok=(200, 404)).get("metadata", {}).get("name"))


def kubeconfig_text(server: str, token: str = TOKEN) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": CONTEXT,
            "clusters": [
                {"name": CONTEXT, "cluster": {"server": server, "insecure-skip-tls-verify": True}}
            ],
            "users": [{"name": CONTEXT, "user": {"token": token}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
        },
        indent=2,
    )


def _start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait_healthy(plane: ControlPlane, timeout: float) -> None:
    urllib3.disable_warnings()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            response = requests.get(
                plane.server + "/readyz",
                timeout=5,
                verify=False,
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            if response.status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError("kube-apiserver did not become ready")


@contextlib.contextmanager
def control_plane(workdir: Path, options: PlaneOptions = PlaneOptions()) -> Iterator[ControlPlane]:
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("etcd", "certs"):
        (workdir / name).mkdir(exist_ok=True)
    sa_key, sa_pub = workdir / "sa.key", workdir / "sa.pub"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(sa_key), "2048"], check=True, capture_output=True
    )
    subprocess.run(
        ["openssl", "rsa", "-in", str(sa_key), "-pubout", "-out", str(sa_pub)],
        check=True,
        capture_output=True,
    )
    users = [(TOKEN, "admin", "system:masters"), *options.tokens]
    (workdir / "tokens.csv").write_text(
        "".join(f'{token},{user},{user},"{groups}"\n' for token, user, groups in users)
    )

    etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
    server = f"https://{options.address}:{api_port}"
    kubeconfig = workdir / "kubeconfig"
    kubeconfig.write_text(kubeconfig_text(server))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            _start(
                [
                    str(BIN / "etcd"),
                    "--name",
                    "default",
                    "--data-dir",
                    str(workdir / "etcd"),
                    "--listen-client-urls",
                    f"http://{LOOPBACK}:{etcd_port}",
                    "--advertise-client-urls",
                    f"http://{LOOPBACK}:{etcd_port}",
                    "--listen-peer-urls",
                    f"http://{LOOPBACK}:{peer_port}",
                    "--initial-advertise-peer-urls",
                    f"http://{LOOPBACK}:{peer_port}",
                    "--initial-cluster",
                    f"default=http://{LOOPBACK}:{peer_port}",
                    "--quota-backend-bytes",
                    str(512 * 1024 * 1024),
                ],
                workdir / "etcd.log",
            )
        )
        wait_for_port(etcd_port, 60, processes[-1])
        processes.append(
            _start(
                [
                    str(BIN / "kube-apiserver"),
                    f"--etcd-servers=http://{LOOPBACK}:{etcd_port}",
                    f"--bind-address={options.address}",
                    f"--advertise-address={options.address}",
                    f"--secure-port={api_port}",
                    f"--cert-dir={workdir / 'certs'}",
                    f"--token-auth-file={workdir / 'tokens.csv'}",
                    f"--authorization-mode={options.authorization}",
                    "--service-account-issuer=https://kubernetes.default.svc",
                    f"--service-account-key-file={sa_pub}",
                    f"--service-account-signing-key-file={sa_key}",
                    "--service-cluster-ip-range=10.96.0.0/16",
                    "--allow-privileged=true",
                    *(NO_WEBHOOK_CALLS if options.kwok else ()),
                    *options.apiserver_args,
                ],
                workdir / "kube-apiserver.log",
            )
        )
        plane = ControlPlane(server, kubeconfig)
        _wait_healthy(plane, 120)
        common = [
            f"--kubeconfig={kubeconfig}",
            "--leader-elect=false",
            f"--bind-address={LOOPBACK}",
        ]
        processes.append(
            _start(
                [
                    str(BIN / "kube-controller-manager"),
                    *common,
                    f"--secure-port={free_port()}",
                    f"--service-account-private-key-file={sa_key}",
                    # published to every namespace as kube-root-ca.crt, which pods' projected
                    # service account volumes mount
                    f"--root-ca-file={workdir / 'certs' / 'apiserver.crt'}",
                    f"--controllers={options.controllers}",
                ],
                workdir / "kube-controller-manager.log",
            )
        )
        processes.append(
            _start(
                [
                    str(BIN / "kube-scheduler"),
                    *common,
                    f"--secure-port={free_port()}",
                ],
                workdir / "kube-scheduler.log",
            )
        )
        if options.kwok:
            processes.append(_start_kwok(kubeconfig, workdir))
            _add_fake_node(plane)
        yield plane
    finally:
        for process in reversed(processes):
            stop_process_group(process)


def _start_kwok(kubeconfig: Path, workdir: Path) -> subprocess.Popen[bytes]:
    return _start(
        [
            str(BIN / "kwok"),
            f"--kubeconfig={kubeconfig}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--cidr=10.244.0.0/16",
            f"--node-ip={LOOPBACK}",
            f"--server-address={LOOPBACK}:{free_port()}",
        ],
        workdir / "kwok.log",
    )


def _add_fake_node(plane: ControlPlane) -> None:
    plane.api(
        "POST",
        "/api/v1/nodes",
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                # kubernetes.io/os, as a kubelet labels its node: the charts' pods select it.
                "labels": {
                    "type": "kwok",
                    "kubernetes.io/hostname": NODE,
                    "kubernetes.io/os": "linux",
                    "topology.kubernetes.io/zone": "zone-a",
                },
            },
            # ephemeral-storage: the MLflow pod requests scratch space for the largest upload.
            "status": {
                "allocatable": {
                    "cpu": "32",
                    "memory": "256Gi",
                    "ephemeral-storage": "100Gi",
                    "pods": "110",
                },
                "capacity": {
                    "cpu": "32",
                    "memory": "256Gi",
                    "ephemeral-storage": "100Gi",
                    "pods": "110",
                },
            },
        },
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        node = plane.api("GET", f"/api/v1/nodes/{NODE}")
        conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
        taints = node["spec"].get("taints", [])
        if conditions.get("Ready") == "True":
            if not any(t["key"] == NOT_READY_TAINT for t in taints):
                return
            # Admission taints every new node not-ready; lifting it once the node is Ready is
            # the node lifecycle controller's job, and that controller is not started here.
            node["spec"]["taints"] = [t for t in taints if t["key"] != NOT_READY_TAINT]
            plane.api("PUT", f"/api/v1/nodes/{NODE}", node, ok=(200, 409))
            continue
        time.sleep(0.5)
    raise TimeoutError("kwok did not make the fake node Ready")


if __name__ == "__main__":
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "controlplane").resolve()
    with control_plane(directory) as running:
        print(f"KUBECONFIG={running.kubeconfig}  (Ctrl-C stops everything)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
