"""`pulumi preview/up/destroy` of infra/ against a real Kubernetes API server.

The engine, the Kubernetes and random providers and the control plane (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok) are all built from Go modules. The stack uses
the `existing` cluster kind, the in-cluster database and a volume for artifacts. Stand-ins, each
for something that cannot run here:
- the ingress controller is installed from a small local chart (tests/engine/charts/ingress-class,
  an IngressClass only) because the ingress-nginx chart cannot be downloaded; a thread publishes
  the address on the Ingress as the controller would;
- kwok plays the kubelet: pods are scheduled and reported Running/Ready, no container runs (the
  containers themselves run for real in tests/integration);
- two hostPath PersistentVolumes play the storage provisioner.
Pulumi's own readiness checks (Deployment available, StatefulSet ready, Service endpoints, Ingress
address) all run against the API server as they would on a real cluster."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from tests.engine import controlplane
from tests.engine.toolchain import (
    ENGINE_BIN,
    copy_project,
    exported_state,
    require_engine,
    workspace_options,
)

pytestmark = pytest.mark.engine

CHART = Path(__file__).with_name("charts") / "ingress-class"
MLFLOW_DEPLOYMENT = "/apis/apps/v1/namespaces/mlflow/deployments/mlflow"
POSTGRES_STATEFULSET = "/apis/apps/v1/namespaces/mlflow-db/statefulsets/mlflow-postgres"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.ControlPlane]:
    require_engine()
    missing = controlplane.missing_binaries()
    missing += [
        p
        for p in ("pulumi-resource-kubernetes", "pulumi-resource-random")
        if not (ENGINE_BIN / p).exists()
    ]
    if missing:
        pytest.skip(f"not built: {', '.join(missing)}; run `make engine controlplane`")
    with controlplane.control_plane(tmp_path_factory.mktemp("controlplane")) as plane:
        for index in range(2):  # what a storage provisioner would supply
            plane.api(
                "POST",
                "/api/v1/persistentvolumes",
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": f"pv-{index}"},
                    "spec": {
                        "capacity": {"storage": "20Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "",
                        "hostPath": {"path": f"/tmp/pv-{index}"},
                    },
                },
            )
        yield plane


class IngressStatusWriter(threading.Thread):
    """Does the one thing the real controller would: publish an address on the Ingress."""

    def __init__(self, plane: controlplane.ControlPlane) -> None:
        super().__init__(daemon=True)
        self.plane = plane
        self.stop = threading.Event()

    def run(self) -> None:
        path = "/apis/networking.k8s.io/v1/namespaces/mlflow/ingresses/mlflow/status"
        while not self.stop.wait(1):
            ingress = self.plane.api("GET", path, ok=(200, 404))
            if ingress.get("metadata") and not ingress.get("status", {}).get(
                "loadBalancer", {}
            ).get("ingress"):
                ingress["status"] = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}
                self.plane.api("PUT", path, ingress, ok=(200, 409))


def _stack_file(plane: controlplane.ControlPlane) -> dict:
    return {
        "config": {
            "mlflow-platform:environment": "local",
            "mlflow-platform:cluster": {
                "kind": "existing",
                "kubeconfig": str(plane.kubeconfig),
                "context": plane.context,
                "kubernetes_version": "1.36",
            },
            "mlflow-platform:database": {"kind": "in-cluster", "storage_size": "1Gi"},
            "mlflow-platform:artifacts": {"kind": "volume", "size": "1Gi"},
            "mlflow-platform:ingress": {"chart": {"path": str(CHART)}, "service_type": "NodePort"},
            "mlflow-platform:mlflow": {"host": "mlflow.local", "replicas": 1, "workers": 1},
        }
    }


def test_up_preview_change_export_destroy(cluster, tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "stacks" / "Pulumi.engine.yaml").write_text(yaml.safe_dump(_stack_file(cluster)))
    stack = auto.create_stack("engine", work_dir=str(project), opts=workspace_options(tmp_path))
    writer = IngressStatusWriter(cluster)
    writer.start()
    try:
        created = stack.preview().change_summary
        assert set(created) == {"create"}, created
        assert stack.up().summary.result == "succeeded"

        deployment = cluster.api("GET", MLFLOW_DEPLOYMENT)
        pod = deployment["spec"]["template"]["spec"]
        assert pod["containers"][0]["image"] == "ghcr.io/mlflow/mlflow:v3.17.2-full"
        assert [c["name"] for c in pod["initContainers"]] == ["db-migrate"]
        assert deployment["status"].get("availableReplicas") == 1
        sts = cluster.api("GET", POSTGRES_STATEFULSET)
        assert sts["status"].get("readyReplicas") == 1
        assert cluster.exists("/apis/networking.k8s.io/v1/ingressclasses/nginx")
        ingress = cluster.api(
            "GET", "/apis/networking.k8s.io/v1/namespaces/mlflow/ingresses/mlflow"
        )
        assert ingress["spec"]["rules"][0]["host"] == "mlflow.local"
        first_config = _mlflow_config(cluster)
        assert first_config["data"]["TRACKING_WORKERS"] == "1"

        same = stack.preview().change_summary
        assert set(same) == {"same"}, same

        # One config value: a new ConfigMap replaces the old one and the Deployment rolls onto
        # it; nothing else changes.
        stack.set_config("mlflow-platform:mlflow.workers", auto.ConfigValue("2"), path=True)
        change = stack.preview().change_summary
        assert change == {"same": same["same"] - 2, "replace": 1, "update": 1}, change
        stack.up()
        second_config = _mlflow_config(cluster)
        assert second_config["data"]["TRACKING_WORKERS"] == "2"
        assert second_config["metadata"]["name"] != first_config["metadata"]["name"]
        old_path = f"/api/v1/namespaces/mlflow/configmaps/{first_config['metadata']['name']}"
        assert not cluster.exists(old_path)
        assert cluster.api("GET", MLFLOW_DEPLOYMENT)["status"].get("availableReplicas") == 1

        password = _postgres_password(cluster)
        assert len(password) == 32
        state = exported_state(stack)
        leaks = _plaintext_paths(state, password)
        assert not leaks, f"the database password is in the state in plaintext at {leaks}"
        generated = next(
            r
            for r in state["resources"]
            if r["type"] == "random:index/randomPassword:RandomPassword"
        )
        assert set(generated["outputs"]["result"]) >= {"ciphertext"}, "stored as a Pulumi secret"

        stack.destroy()
        for namespace in ("mlflow", "mlflow-db", "ingress-nginx"):
            _wait_gone(cluster, f"/api/v1/namespaces/{namespace}")
        assert not cluster.exists("/apis/networking.k8s.io/v1/ingressclasses/nginx")
        remaining = stack.export_stack().deployment.get("resources") or []
        assert not [r for r in remaining if r["type"] != "pulumi:pulumi:Stack"]
    finally:
        writer.stop.set()


def _mlflow_config(plane: controlplane.ControlPlane) -> dict:
    pod = plane.api("GET", MLFLOW_DEPLOYMENT)["spec"]["template"]["spec"]
    name = pod["containers"][0]["envFrom"][0]["configMapRef"]["name"]
    return plane.api("GET", f"/api/v1/namespaces/mlflow/configmaps/{name}")


def _postgres_password(plane: controlplane.ControlPlane) -> str:
    pod = plane.api("GET", POSTGRES_STATEFULSET)["spec"]["template"]["spec"]
    ref = next(e for e in pod["containers"][0]["env"] if e["name"] == "POSTGRES_PASSWORD")
    name = ref["valueFrom"]["secretKeyRef"]["name"]
    secret = plane.api("GET", f"/api/v1/namespaces/mlflow-db/secrets/{name}")
    return base64.b64decode(secret["data"]["POSTGRES_PASSWORD"]).decode()


def _plaintext_paths(value: object, text: str, path: str = "") -> list[str]:
    """Where in an exported state `text` appears in the clear (secrets there are ciphertext)."""
    if isinstance(value, dict):
        label = value.get("urn", "")
        return [
            hit
            for key, item in value.items()
            for hit in _plaintext_paths(
                item, text, f"{label or path}.{key}" if label else f"{path}.{key}"
            )
        ]
    if isinstance(value, list):
        return [
            hit
            for i, item in enumerate(value)
            for hit in _plaintext_paths(item, text, f"{path}[{i}]")
        ]
    return [path] if isinstance(value, str) and text in value else []


def _wait_gone(plane: controlplane.ControlPlane, path: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while plane.exists(path):
        assert time.monotonic() < deadline, f"{path} still exists"
        time.sleep(1)
