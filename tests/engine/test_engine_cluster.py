"""`pulumi preview/up/destroy` of infra/ against a real Kubernetes API server.

The engine, the Kubernetes and random providers and the control plane (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok) are all built from Go modules. The stack uses
the `existing` cluster kind, the in-cluster database, a volume for artifacts and the upstream
ingress-nginx chart (tests/engine/upstream_charts.py). Stand-ins, each for something that cannot
run here (tests/engine/addons.py):
- the kubelet: kwok schedules pods and reports them Running/Ready, no container runs (the
  containers themselves run for real in tests/integration); so nothing answers the chart's
  admission webhook, and the API server does not call webhooks (controlplane.PlaneOptions);
- the ingress controller's one job that shows in the API: a thread publishes the Ingress address;
- a storage provisioner: a thread that makes a hostPath PersistentVolume for each claim.
Pulumi's own readiness checks (Deployment available, StatefulSet ready, Service endpoints, Ingress
address) run against the API server as they would on a real cluster.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from tests.engine import controlplane
from tests.engine.inventory import inventory
from tests.engine.platform_checks import (
    MIGRATION_JOB,
    MLFLOW_DEPLOYMENT,
    POSTGRES_STATEFULSET,
    assert_platform_removed,
    assert_platform_running,
    existing_cluster_stack,
    mlflow_backend_store_uri,
    mlflow_config,
    plaintext_paths,
    planned_changes,
    postgres_password,
)
from tests.engine.toolchain import (
    copy_project,
    exported_state,
    managed_types,
    workspace_options,
)
from tests.engine.upstream_charts import upstream_chart
from tests.harness import ROOT

pytestmark = pytest.mark.engine


def test_up_preview_change_export_destroy(
    cluster: controlplane.ControlPlane, tmp_path: Path
) -> None:
    project = copy_project(tmp_path / "project")
    (project / "stacks" / "Pulumi.engine.yaml").write_text(
        yaml.safe_dump(existing_cluster_stack(cluster, upstream_chart("ingress-nginx")))
    )
    stack = auto.create_stack("engine", work_dir=str(project), opts=workspace_options(tmp_path))
    before = inventory(cluster)

    created = stack.preview().change_summary
    assert set(created) == {"create"}, created
    assert stack.up().summary.result == "succeeded"
    assert_platform_running(cluster, "mlflow.local")
    first_config = mlflow_config(cluster)
    assert first_config["data"]["TRACKING_WORKERS"] == "1"

    same = stack.preview().change_summary
    assert set(same) == {"same"}, same

    # One config value: a new ConfigMap replaces the old one, and the Deployment and the
    # garbage collector move onto it; nothing else changes. The finished migration Job reads
    # it too, and a Job's pod template cannot change: it is replaced and reruns (a no-op).
    stack.set_config("mlflow-platform:mlflow.workers", auto.ConfigValue("2"), path=True)
    assert planned_changes(stack) == {
        "kubernetes:core/v1:ConfigMap::mlflow": "replace",
        "kubernetes:apps/v1:Deployment::mlflow": "update",
        # the garbage collector reads the same ConfigMap
        "kubernetes:batch/v1:CronJob::mlflow-gc": "update",
        "kubernetes:batch/v1:Job::mlflow-migrate": "replace",
    }
    stack.up()
    assert cluster.api("GET", MIGRATION_JOB)["status"].get("succeeded") == 1
    second_config = mlflow_config(cluster)
    assert second_config["data"]["TRACKING_WORKERS"] == "2"
    old_name = first_config["metadata"]["name"]
    assert second_config["metadata"]["name"] != old_name
    assert not cluster.exists(f"/api/v1/namespaces/mlflow/configmaps/{old_name}")
    assert cluster.api("GET", MLFLOW_DEPLOYMENT)["status"].get("availableReplicas") == 1

    password = postgres_password(cluster)
    assert len(password) == 32
    state = exported_state(stack)
    leaks = plaintext_paths(state, password)
    assert not leaks, f"the database password is in the state in plaintext at {leaks}"
    generated = next(
        r for r in state["resources"] if r["type"] == "random:index/randomPassword:RandomPassword"
    )
    assert "ciphertext" in generated["outputs"]["result"], "stored as a Pulumi secret"

    # Password rotation (docs/operations.md): a new password, new Secrets, and both workloads roll.
    stack.set_config("mlflow-platform:database.password_rotation", auto.ConfigValue("2"), path=True)
    assert planned_changes(stack) == {
        "random:index/randomPassword:RandomPassword::mlflow-postgres-password": "replace",
        "kubernetes:core/v1:Secret::mlflow-postgres-credentials": "replace",
        "kubernetes:apps/v1:StatefulSet::mlflow-postgres": "update",
        "kubernetes:core/v1:Secret::mlflow": "replace",
        # basic auth's ini names its database with the same user and password
        "kubernetes:core/v1:Secret::mlflow-auth": "replace",
        "kubernetes:apps/v1:Deployment::mlflow": "update",
        # the garbage collector and the migration Job read the same Secrets
        "kubernetes:batch/v1:CronJob::mlflow-gc": "update",
        "kubernetes:batch/v1:Job::mlflow-migrate": "replace",
    }
    stack.up()
    rotated = postgres_password(cluster)
    assert rotated != password and len(rotated) == 32
    assert rotated in mlflow_backend_store_uri(cluster)
    assert cluster.api("GET", POSTGRES_STATEFULSET)["status"].get("readyReplicas") == 1

    stack.destroy()
    assert_platform_removed(cluster, stack, before)


# The last commit whose cluster components had the tokens Minikube/Existing/Gke; since then they
# are named after their classes (MinikubeCluster, ExistingCluster, GkeCluster) with aliases.
BEFORE_RENAME = "5a58622"
OLD_TOKEN = "mlflow-platform:cluster:Existing"
NEW_TOKEN = "mlflow-platform:cluster:ExistingCluster"


def _program_at(commit: str, dest: Path) -> Path:
    """The project's program as it was at `commit` (from git history)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "Pulumi.yaml", "infra", "components"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    (dest / "stacks").mkdir()
    return dest


def _stack_at(
    commit: str, name: str, stack_file: dict[str, Any], tmp_path: Path
) -> tuple[Path, auto.Stack]:
    """A stack of the program as it was at `commit`, with `stack_file` as its config."""
    project = _program_at(commit, tmp_path / "project")
    (project / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(stack_file))
    opts = workspace_options(tmp_path)
    # The project's own packages, not the ones the venv's editable install points at (today's).
    opts.env_vars = {**(opts.env_vars or {}), "PYTHONPATH": str(project)}
    return project, auto.create_stack(name, work_dir=str(project), opts=opts)


def _swap_in_current_program(project: Path) -> None:
    for name in ("infra", "components"):
        shutil.rmtree(project / name)
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))


def test_a_stack_from_before_the_token_rename_keeps_every_resource(
    cluster: controlplane.ControlPlane, tmp_path: Path
) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("needs the project's git history (a clone, not an unpacked archive)")
    old_stack_file = existing_cluster_stack(cluster, upstream_chart("ingress-nginx"))
    del old_stack_file["config"]["mlflow-platform:tls"]  # a key that program did not know yet
    project, stack = _stack_at(BEFORE_RENAME, "renamed", old_stack_file, tmp_path)
    before = inventory(cluster)
    assert stack.up().summary.result == "succeeded"
    assert OLD_TOKEN in managed_types(stack), "the old program created the old token"

    _swap_in_current_program(project)
    stack.set_config("mlflow-platform:tls.issuer", auto.ConfigValue("none"), path=True)
    stack.set_config("mlflow-platform:tls.hsts", auto.ConfigValue("false"), path=True)
    changes = planned_changes(stack)
    # What came since (the login, new settings) is created and rolls the Deployment; nothing
    # is deleted, and the renamed cluster component and its provider are matched by alias. The
    # replacements are by design: the auto-named settings ConfigMap, whose content grew, and
    # the backend Secret, whose URI gained connect_timeout (a changed ConfigMap or Secret is a
    # new object, so the pods roll onto it).
    replaced = {key for key, op in changes.items() if op == "replace"}
    by_design = {"kubernetes:core/v1:ConfigMap::mlflow", "kubernetes:core/v1:Secret::mlflow"}
    assert replaced <= by_design, changes
    assert "delete" not in changes.values(), changes
    assert not [key for key in changes if "Existing" in key or "providers:kubernetes" in key]
    assert stack.up().summary.result == "succeeded"
    types = managed_types(stack)
    assert NEW_TOKEN in types and OLD_TOKEN not in types
    assert set(stack.preview().change_summary) == {"same"}

    stack.destroy()
    assert_platform_removed(cluster, stack, before)


# The release tagged v0.1.0 (the tag may not travel with a clone; the commit does).
V0_1_0 = "fa1661e"
# What holds data or identity: never replaced or deleted by an upgrade of the platform.
STATEFUL = (
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:Namespace",
    "random:index/randomPassword:RandomPassword",
    "kubernetes:core/v1:Secret::mlflow-postgres-credentials",
)


def test_a_stack_from_v0_1_0_keeps_its_components_and_its_data(
    cluster: controlplane.ControlPlane, tmp_path: Path
) -> None:
    """v0.1.0's program brings a stack up; today's program (modules moved into layer folders,
    type tokens kept) previews it with every component and stateful resource in place."""
    if not (ROOT / ".git").exists():
        pytest.skip("needs the project's git history (a clone, not an unpacked archive)")
    stack_file = existing_cluster_stack(cluster, upstream_chart("ingress-nginx"))
    project, stack = _stack_at(V0_1_0, "released", stack_file, tmp_path)
    before = inventory(cluster)
    assert stack.up().summary.result == "succeeded"
    released = set(managed_types(stack))

    _swap_in_current_program(project)
    changes = planned_changes(stack)
    touched_components = {k: op for k, op in changes.items() if k.startswith("mlflow-platform:")}
    assert touched_components == {}, "every component keeps its URN (type token and parents)"
    assert "delete" not in changes.values(), changes
    stateful = {k: op for k, op in changes.items() if k.startswith(STATEFUL) and op != "update"}
    assert stateful == {}, stateful
    # The one replacement: the finished migration Job, whose pod template is immutable and whose
    # container no longer takes the database URI in its arguments (it reads the environment).
    replaced = {k for k, op in changes.items() if op == "replace"}
    assert replaced <= {"kubernetes:batch/v1:Job::mlflow-migrate"}, changes
    assert stack.up().summary.result == "succeeded"
    assert {t for t in released if t.startswith("mlflow-platform:")} <= set(managed_types(stack))
    assert set(stack.preview().change_summary) == {"same"}

    stack.destroy()
    assert_platform_removed(cluster, stack, before)
