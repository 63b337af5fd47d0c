"""examples/mlflow-on-existing-cluster through the real engine, on the kwok control plane.

The example and the one package it imports (components/) are copied as the checkout lays them out
(tests/test_examples.py checks it imports nothing of infra/ or Platform). Its stack config is the
README's, with a namespace other than the default, so every namespace the example wires by hand
is checked, and the upstream ingress-nginx chart from shared/charts. The stand-ins are the cluster
fixture's (tests/engine/conftest.py): kwok's pods, a volume provisioner, Ingress addresses.
Steps: preview (all creates), up, checks of the objects and the outputs, a preview with no
changes, destroy, and an inventory of the API server equal to the one before.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from components.shared import versions
from tests.engine import addons, controlplane
from tests.engine.inventory import inventory, left_behind
from tests.engine.platform_checks import plaintext_paths
from tests.engine.toolchain import exported_state, managed_types, workspace_options
from tests.engine.upstream_charts import assert_ingress_nginx_installed, upstream_chart
from tests.examples import EXISTING_CLUSTER, promised_outputs
from tests.harness import ROOT

pytestmark = pytest.mark.engine

NAMESPACE = "tracking"
DATABASE_NAMESPACE = f"{NAMESPACE}-db"
HOST = "mlflow.example.test"
APPS = "/apis/apps/v1/namespaces"
CORE = "/api/v1/namespaces"


def copy_example(dest: Path) -> Path:
    """The example's project and components/, laid out as in the checkout (the program puts the
    root above it first on sys.path)."""
    ignore = shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml")
    program = dest / "examples" / EXISTING_CLUSTER.name
    shutil.copytree(EXISTING_CLUSTER, program, ignore=ignore)
    shutil.copytree(ROOT / "components", dest / "components", ignore=ignore)
    return program


def _names(plane: controlplane.ControlPlane, path: str) -> list[str]:
    return sorted(item["metadata"]["name"] for item in plane.api("GET", path)["items"])


def _generated(names: list[str]) -> list[str]:
    """Auto-named objects (<resource name>-<suffix>) by their resource name."""
    return sorted(name.rsplit("-", 1)[0] for name in names)


def assert_example_running(plane: controlplane.ControlPlane) -> None:
    """The objects the README lists, in the namespaces the stack config named."""
    deployment = plane.api("GET", f"{APPS}/{NAMESPACE}/deployments/mlflow")
    assert deployment["status"].get("availableReplicas") == 1
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == (
        versions.mlflow_image()
    )
    postgres = plane.api("GET", f"{APPS}/{DATABASE_NAMESPACE}/statefulsets/mlflow-postgres")
    assert postgres["status"].get("readyReplicas") == 1
    migration = f"mlflow-migrate-{versions.MLFLOW_VERSION.replace('.', '-')}"
    job = plane.api("GET", f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{migration}")
    assert job["status"].get("succeeded") == 1
    assert _names(plane, f"{CORE}/{NAMESPACE}/services") == ["mlflow"]
    assert _names(plane, f"{CORE}/{DATABASE_NAMESPACE}/services") == ["mlflow-postgres"]
    assert _generated(_names(plane, f"{CORE}/{NAMESPACE}/secrets")) == ["mlflow", "mlflow-auth"]
    assert _generated(_names(plane, f"{CORE}/{DATABASE_NAMESPACE}/secrets")) == [
        "mlflow-postgres-credentials"
    ]
    assert _names(plane, f"{CORE}/{NAMESPACE}/persistentvolumeclaims") == ["mlflow-artifacts"]
    assert _names(plane, f"{CORE}/{DATABASE_NAMESPACE}/persistentvolumeclaims") == [
        "data-mlflow-postgres-0"
    ]
    ingress = plane.api(
        "GET", f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/ingresses/mlflow"
    )
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["rules"][0]["host"] == HOST
    assert_ingress_nginx_installed(plane)


def _admitted_namespace(plane: controlplane.ControlPlane, namespace: str, name: str) -> str:
    policy = plane.api(
        "GET", f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}"
    )
    peer = policy["spec"]["ingress"][0]["from"][0]
    return str(peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])


def assert_namespaces_wired(plane: controlplane.ControlPlane) -> None:
    """What Platform derives from one config value, the example passes by hand: the controller
    serves MLflow's namespace, which alone reaches the database; the controller's alone reaches
    MLflow."""
    controllers = plane.api("GET", f"{APPS}/ingress-nginx/deployments")["items"]
    args = controllers[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert f"--watch-namespace={NAMESPACE}" in args
    assert _admitted_namespace(plane, NAMESPACE, "mlflow") == "ingress-nginx"
    assert _admitted_namespace(plane, DATABASE_NAMESPACE, "mlflow-postgres") == NAMESPACE


def _admin_password(plane: controlplane.ControlPlane) -> str:
    names = _names(plane, f"{CORE}/{NAMESPACE}/secrets")
    auth = next(name for name in names if name.startswith("mlflow-auth-"))
    secret = plane.api("GET", f"{CORE}/{NAMESPACE}/secrets/{auth}")
    return base64.b64decode(secret["data"]["admin-password"]).decode()


def assert_outputs_as_promised(outputs: Mapping[str, auto.OutputValue], password: str) -> None:
    assert sorted(outputs) == sorted(promised_outputs(EXISTING_CLUSTER))
    values: dict[str, Any] = {name: output.value for name, output in outputs.items()}
    assert values == {
        "namespace": NAMESPACE,
        "url": f"http://{HOST}:30080",
        "service_url": f"http://mlflow.{NAMESPACE}.svc.cluster.local",
        "database_host": f"mlflow-postgres.{DATABASE_NAMESPACE}.svc.cluster.local",
        "admin_username": "admin",
        "admin_password": password,
    }
    assert [name for name, output in outputs.items() if output.secret] == ["admin_password"]


def test_the_example_deploys_to_an_existing_cluster_and_goes(
    cluster: controlplane.ControlPlane, tmp_path: Path
) -> None:
    program = copy_example(tmp_path / "checkout")
    stack = auto.create_stack("example", work_dir=str(program), opts=workspace_options(tmp_path))
    config = {
        "context": cluster.context,
        "kubeconfig": str(cluster.kubeconfig),
        "namespace": NAMESPACE,
        "host": HOST,
        "ingress_chart_path": str(upstream_chart("ingress-nginx")),
    }
    stack.set_all_config({key: auto.ConfigValue(value) for key, value in config.items()})
    before = inventory(cluster)

    assert set(stack.preview().change_summary) == {"create"}
    up = stack.up()
    assert up.summary.result == "succeeded"
    assert_example_running(cluster)
    assert_namespaces_wired(cluster)
    password = _admin_password(cluster)
    assert len(password) == 32
    assert_outputs_as_promised(up.outputs, password)
    assert not plaintext_paths(exported_state(stack), password), "the admin password in the clear"

    assert set(stack.preview().change_summary) == {"same"}

    stack.destroy()
    for namespace in (NAMESPACE, DATABASE_NAMESPACE, "ingress-nginx"):
        addons.wait_gone(cluster, f"{CORE}/{namespace}")
    assert managed_types(stack) == []
    assert left_behind(cluster, before) == []
