"""The real engine and the real Kubernetes provider render the MLflow component to YAML.

renderYamlToDirectory needs no cluster: Pulumi plans, diffs and records state exactly as for a
cluster, and the provider writes each object as a manifest instead of calling an API server.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from tests.engine.toolchain import (
    ENGINE_BIN,
    exported_state,
    managed_types,
    require_engine,
    workspace_options,
)

pytestmark = pytest.mark.engine

PASSWORD = "engine-render-S3cret-password"

PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

from components.stores.database import DatabaseEndpoint
from components.workload.mlflow.server import MlflowServer
from components.workload.mlflow.server_args import ArtifactVolume, MlflowServerArgs

config = pulumi.Config()
provider = k8s.Provider("render", render_yaml_to_directory=config.require("out"))
backend = DatabaseEndpoint(
    host=pulumi.Output.from_input("mlflow-postgres.mlflow-db.svc.cluster.local"),
    port=5432, database="mlflow", user="mlflow",
    password=config.require_secret("db_password"), sslmode="disable",
)
replicas = config.require_int("replicas")
server = MlflowServer(
    "mlflow",
    MlflowServerArgs(host="mlflow.local", backend=backend, artifacts_destination="gs://b/a",
                     replicas=replicas, max_replicas=replicas * 2),
    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
)
pulumi.export("url", server.url)
"""


def _manifests(out: Path) -> dict[str, dict[str, Any]]:
    """Rendered objects by kind (the component makes one of each), NetworkPolicies by kind and
    name (the server's, the metrics scrapers', the migration Job's, the collector's)."""
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted(out.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                key = doc["kind"]
                if key == "NetworkPolicy":
                    key = f"NetworkPolicy {doc['metadata']['name']}"
                assert key not in docs, f"two {key} objects"
                docs[key] = doc
    return docs


def test_render_up_is_idempotent_changes_one_thing_and_destroys(tmp_path: Path) -> None:
    require_engine()
    if not (ENGINE_BIN / "pulumi-resource-kubernetes").exists():
        pytest.skip("kubernetes provider not built: run `make engine`")
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: render\nruntime: python\n")
    (project / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    out = tmp_path / "rendered"
    stack = auto.create_stack("render", work_dir=str(project), opts=workspace_options(tmp_path))
    stack.set_config("out", auto.ConfigValue(str(out)))
    stack.set_config("db_password", auto.ConfigValue(PASSWORD, secret=True))
    stack.set_config("replicas", auto.ConfigValue("2"))

    first = stack.preview()
    assert first.change_summary == {"create": 18}, first.change_summary
    result = stack.up()
    assert result.summary.result == "succeeded"
    docs = _manifests(out)
    assert set(docs) == {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "Ingress",
        "NetworkPolicy mlflow",
        "NetworkPolicy mlflow-metrics",  # scrapes reach the metrics sidecar's port
        "NetworkPolicy mlflow-migrate",
        "NetworkPolicy mlflow-gc",  # the garbage collector serves nothing
        "Job",  # the migration
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "CronJob",  # the garbage collector
    }
    assert docs["Deployment"]["spec"]["replicas"] == 2
    assert docs["ConfigMap"]["metadata"]["name"].startswith("mlflow-")  # auto-named
    assert PASSWORD not in json.dumps(docs["ConfigMap"])

    state = json.dumps(exported_state(stack))
    assert PASSWORD not in state, "the password must be encrypted in the state"

    again = stack.preview()
    assert set(again.change_summary) == {"same"}, again.change_summary

    # With replicas > 1 the HPA owns the Deployment's replica count (ignore_changes), so a new
    # replica setting is exactly one update: the autoscaler's bounds.
    stack.set_config("replicas", auto.ConfigValue("3"))
    change = stack.preview(diff=True)
    assert change.change_summary == {"same": 17, "update": 1}, change.change_summary
    assert "HorizontalPodAutoscaler" in change.stdout
    stack.up()
    hpa = _manifests(out)["HorizontalPodAutoscaler"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 6)

    stack.destroy()
    assert not _manifests(out)
    assert managed_types(stack) == []
