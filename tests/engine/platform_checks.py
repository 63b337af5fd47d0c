"""What `pulumi up` of infra/ must leave in the API server, and what `destroy` must remove."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from components.shared import versions
from tests.engine import addons
from tests.engine.controlplane import ControlPlane
from tests.engine.inventory import Entry, left_behind
from tests.engine.toolchain import managed_types
from tests.engine.upstream_charts import assert_ingress_nginx_installed

# The real node's stand-in for the ingress-nginx chart, whose controller image cannot be built
# here: only the IngressClass. On kwok the tests install the upstream chart.
TEST_CHART = Path(__file__).with_name("charts") / "ingress-class"
MLFLOW_DEPLOYMENT = "/apis/apps/v1/namespaces/mlflow/deployments/mlflow"
POSTGRES_STATEFULSET = "/apis/apps/v1/namespaces/mlflow-db/statefulsets/mlflow-postgres"
MIGRATION_JOB = (
    "/apis/batch/v1/namespaces/mlflow/jobs/mlflow-migrate-"
    + versions.MLFLOW_VERSION.replace(".", "-")
)
NAMESPACES = ("mlflow", "mlflow-db", "ingress-nginx")
INGRESS_CLASS = "/apis/networking.k8s.io/v1/ingressclasses/nginx"


def existing_cluster_stack(plane: ControlPlane, ingress_chart: Path = TEST_CHART) -> dict[str, Any]:
    """The local stack's shape on the loopback control plane (the `existing` cluster kind)."""
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
            "mlflow-platform:ingress": {
                "chart": {"path": str(ingress_chart)},
                "service_type": "NodePort",
            },
            "mlflow-platform:mlflow": {"host": "mlflow.local", "replicas": 1, "workers": 1},
            # cert-manager has a test of its own (test_engine_certificates.py). The login
            # (basic auth) is on, as on every stack.
            "mlflow-platform:tls": {"issuer": "none", "hsts": False},
        }
    }


def assert_platform_running(plane: ControlPlane, host: str) -> None:
    """The platform is up on kwok, its ingress controller from the upstream chart."""
    deployment = plane.api("GET", MLFLOW_DEPLOYMENT)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == versions.mlflow_image()
    assert [c["name"] for c in pod["initContainers"]] == ["auth-admin"]
    # The schema was migrated once, by the version's Job, which Pulumi waited for.
    job = plane.api("GET", MIGRATION_JOB)
    assert job["status"].get("succeeded") == 1, job["status"]
    assert [c["name"] for c in job["spec"]["template"]["spec"]["containers"]] == [
        "db-migrate",
        "auth-db-migrate",
    ]
    assert deployment["status"].get("availableReplicas") == 1
    assert plane.api("GET", POSTGRES_STATEFULSET)["status"].get("readyReplicas") == 1
    assert plane.exists(INGRESS_CLASS)
    assert_ingress_nginx_installed(plane)
    ingress = plane.api("GET", "/apis/networking.k8s.io/v1/namespaces/mlflow/ingresses/mlflow")
    assert ingress["spec"]["rules"][0]["host"] == host
    claims = plane.api("GET", "/api/v1/persistentvolumeclaims")["items"]
    assert {c["metadata"]["namespace"] for c in claims} == {"mlflow", "mlflow-db"}


def assert_platform_removed(plane: ControlPlane, stack: auto.Stack, before: set[Entry]) -> None:
    """Nothing of the stack is left: no namespace, no object of any kind that was not in the API
    server before the stack's first `up` (the `before` inventory), nothing in the state."""
    for namespace in NAMESPACES:
        addons.wait_gone(plane, f"/api/v1/namespaces/{namespace}")
    assert not plane.exists(INGRESS_CLASS)
    assert managed_types(stack) == []
    assert left_behind(plane, before) == []


def _pod_spec(plane: ControlPlane, workload: str) -> dict[str, Any]:
    spec: dict[str, Any] = plane.api("GET", workload)["spec"]["template"]["spec"]
    return spec


def _secret_env(plane: ControlPlane, workload: str, namespace: str, env_name: str) -> str:
    """The value of env var `env_name` of the workload's first container, read from its Secret
    (whose name is auto-generated)."""
    env = _pod_spec(plane, workload)["containers"][0]["env"]
    ref = next(e for e in env if e["name"] == env_name)["valueFrom"]["secretKeyRef"]
    secret = plane.api("GET", f"/api/v1/namespaces/{namespace}/secrets/{ref['name']}")
    return base64.b64decode(secret["data"][ref["key"]]).decode()


def mlflow_config(plane: ControlPlane) -> dict[str, Any]:
    """The ConfigMap the MLflow pods read (its name is auto-generated)."""
    name = _pod_spec(plane, MLFLOW_DEPLOYMENT)["containers"][0]["envFrom"][0]["configMapRef"][
        "name"
    ]
    return plane.api("GET", f"/api/v1/namespaces/mlflow/configmaps/{name}")


def mlflow_backend_store_uri(plane: ControlPlane) -> str:
    return _secret_env(plane, MLFLOW_DEPLOYMENT, "mlflow", "MLFLOW_BACKEND_STORE_URI")


def postgres_password(plane: ControlPlane) -> str:
    return _secret_env(plane, POSTGRES_STATEFULSET, "mlflow-db", "POSTGRES_PASSWORD")


def plaintext_paths(value: object, text: str, path: str = "") -> list[str]:
    """Where in an exported state `text` appears in the clear (secrets there are ciphertext)."""
    if isinstance(value, dict):
        where = value.get("urn") or path
        return [
            hit
            for key, item in value.items()
            for hit in plaintext_paths(item, text, f"{where}.{key}")
        ]
    if isinstance(value, list):
        return [
            hit
            for i, item in enumerate(value)
            for hit in plaintext_paths(item, text, f"{path}[{i}]")
        ]
    return [path] if isinstance(value, str) and text in value else []


def previewed(stack: auto.Stack) -> tuple[auto.OpMap, dict[str, set[str]]]:
    """`pulumi preview`: its change summary, and the operations of its steps by URN."""
    steps: dict[str, set[str]] = {}

    def record(event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            steps.setdefault(meta.urn, set()).add(auto.OpType(meta.op).value)

    summary = stack.preview(on_event=record).change_summary
    return summary, steps


def planned_changes(stack: auto.Stack) -> dict[str, str]:
    """`pulumi preview`, as {"type::name": operation} for everything that is not unchanged."""
    _, steps = previewed(stack)
    # A replacement shows as several steps (create-replacement, replace, delete-replaced).
    return {
        f"{urn.split('::')[2].rsplit('$', 1)[-1]}::{urn.rsplit('::', 1)[1]}": (
            "replace" if "replace" in ops else ops.pop()
        )
        for urn, ops in steps.items()
        if ops != {"same"}
    }
