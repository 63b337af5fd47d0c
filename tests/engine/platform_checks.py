"""What `pulumi up` of infra/ must leave in the API server, and what `destroy` must remove."""

from __future__ import annotations

import base64
from typing import Any

from pulumi import automation as auto

from components import versions
from tests.engine import addons
from tests.engine.controlplane import ControlPlane

MLFLOW_DEPLOYMENT = "/apis/apps/v1/namespaces/mlflow/deployments/mlflow"
POSTGRES_STATEFULSET = "/apis/apps/v1/namespaces/mlflow-db/statefulsets/mlflow-postgres"
NAMESPACES = ("mlflow", "mlflow-db", "ingress-nginx")
INGRESS_CLASS = "/apis/networking.k8s.io/v1/ingressclasses/nginx"


def assert_platform_running(plane: ControlPlane, host: str) -> None:
    deployment = plane.api("GET", MLFLOW_DEPLOYMENT)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == versions.mlflow_image()
    assert [c["name"] for c in pod["initContainers"]] == ["db-migrate"]
    assert deployment["status"].get("availableReplicas") == 1
    assert plane.api("GET", POSTGRES_STATEFULSET)["status"].get("readyReplicas") == 1
    assert plane.exists(INGRESS_CLASS)
    ingress = plane.api("GET", "/apis/networking.k8s.io/v1/namespaces/mlflow/ingresses/mlflow")
    assert ingress["spec"]["rules"][0]["host"] == host
    claims = plane.api("GET", "/api/v1/persistentvolumeclaims")["items"]
    assert {c["metadata"]["namespace"] for c in claims} == {"mlflow", "mlflow-db"}


def assert_platform_removed(plane: ControlPlane, stack: auto.Stack) -> None:
    for namespace in NAMESPACES:
        addons.wait_gone(plane, f"/api/v1/namespaces/{namespace}")
    assert not plane.exists(INGRESS_CLASS)
    remaining = stack.export_stack().deployment.get("resources") or []
    assert [r["type"] for r in remaining if r["type"] != "pulumi:pulumi:Stack"] == []


def mlflow_config(plane: ControlPlane) -> dict[str, Any]:
    """The ConfigMap the MLflow pods read (its name is auto-generated)."""
    pod = plane.api("GET", MLFLOW_DEPLOYMENT)["spec"]["template"]["spec"]
    name = pod["containers"][0]["envFrom"][0]["configMapRef"]["name"]
    return plane.api("GET", f"/api/v1/namespaces/mlflow/configmaps/{name}")


def mlflow_backend_store_uri(plane: ControlPlane) -> str:
    """The database URI in the Secret the MLflow pods read (its name is auto-generated)."""
    pod = plane.api("GET", MLFLOW_DEPLOYMENT)["spec"]["template"]["spec"]
    ref = next(e for e in pod["containers"][0]["env"] if e["name"] == "TRACKING_BACKEND_STORE_URI")
    name = ref["valueFrom"]["secretKeyRef"]["name"]
    secret = plane.api("GET", f"/api/v1/namespaces/mlflow/secrets/{name}")
    return base64.b64decode(secret["data"][ref["valueFrom"]["secretKeyRef"]["key"]]).decode()


def postgres_password(plane: ControlPlane) -> str:
    pod = plane.api("GET", POSTGRES_STATEFULSET)["spec"]["template"]["spec"]
    ref = next(e for e in pod["containers"][0]["env"] if e["name"] == "POSTGRES_PASSWORD")
    name = ref["valueFrom"]["secretKeyRef"]["name"]
    secret = plane.api("GET", f"/api/v1/namespaces/mlflow-db/secrets/{name}")
    return base64.b64decode(secret["data"]["POSTGRES_PASSWORD"]).decode()


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


def planned_changes(stack: auto.Stack) -> dict[str, str]:
    """`pulumi preview`, as {"type::name": operation} for everything that is not unchanged."""
    steps: dict[str, set[str]] = {}

    def record(event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            key = f"{meta.type}::{meta.urn.rsplit('::', 1)[1]}"
            steps.setdefault(key, set()).add(auto.OpType(meta.op).value)

    stack.preview(on_event=record)
    # A replacement shows as several steps (create-replacement, replace, delete-replaced).
    return {
        key: "replace" if "replace" in ops else ops.pop()
        for key, ops in steps.items()
        if ops != {"same"}
    }
