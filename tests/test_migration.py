"""Safe upgrades under mocks: the schema migration is a Job named per MLflow version that the
Deployment waits for, and on Cloud SQL an on-demand backup comes first (its id a stack output).
The backup's script itself runs against a stand-in `gcloud` that records its calls."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from components.config import ConfigError
from components.shared import versions
from components.workload.mlflow.migration import (
    BACKOFF_LIMIT,
    BACKUP_SCRIPT,
    NOTHING_TO_BACK_UP_SCRIPT,
    TIMEOUT,
    job_name,
)
from tests.harness import (
    MOCK_BACKUP_ID,
    STACKS,
    Capture,
    Registration,
    run_stack,
    stack_config,
    with_overrides,
)

JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
COMMAND = "command:local:Command"
CLOUD_SQL_STACKS = ("dev", "staging", "prod")


def _backup(capture: Capture) -> Registration | None:
    found = [r for r in capture.of_type(COMMAND) if r.name.endswith("-upgrade-backup")]
    assert len(found) <= 1
    return found[0] if found else None


def _job_pod(capture: Capture) -> dict[str, Any]:
    return cast(dict[str, Any], capture.one(JOB).inputs["spec"]["template"]["spec"])


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployment_waits_for_a_job_named_after_the_version(
    stacks: dict[str, Capture], stack: str
) -> None:
    capture = stacks[stack]
    job, deployment = capture.one(JOB), capture.one(DEPLOYMENT)
    assert job.inputs["metadata"]["name"] == "mlflow-migrate-3-17-2"
    assert versions.MLFLOW_VERSION == "3.17.2"
    assert job.urn in deployment.dependencies
    assert job.delete_before_replace
    spec = job.inputs["spec"]
    assert spec["backoffLimit"] == BACKOFF_LIMIT == 2
    # Kept after it finishes: Pulumi would run a Job that Kubernetes deleted once more.
    assert "ttlSecondsAfterFinished" not in spec
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    server_pod = deployment.inputs["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == server_pod["serviceAccountName"]
    assert pod["securityContext"] == server_pod["securityContext"]
    assert [c["name"] for c in server_pod["initContainers"]][-1] == "auth-admin"
    assert "db-migrate" not in [c["name"] for c in server_pod["initContainers"]]


@pytest.mark.parametrize("stack", STACKS)
def test_the_job_carries_what_the_init_container_had(
    stacks: dict[str, Capture], stack: str
) -> None:
    capture = stacks[stack]
    pod = _job_pod(capture)
    server = capture.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]
    migrate, auth = pod["containers"]
    assert migrate["name"] == "db-migrate"
    # `mlflow db upgrade`'s own body, with the URI from the environment rather than argv.
    assert migrate["command"] == ["python"] and migrate["args"][0] == "-c"
    assert "from mlflow.db import upgrade" in migrate["args"][1]
    assert 'upgrade.callback(os.environ["MLFLOW_BACKEND_STORE_URI"])' in migrate["args"][1]
    server_env = {e["name"]: e for e in server["containers"][0]["env"]}
    env = {e["name"]: e for e in migrate["env"]}
    assert list(env) == ["MLFLOW_BACKEND_STORE_URI"]  # its one secret
    assert env["MLFLOW_BACKEND_STORE_URI"] == server_env["MLFLOW_BACKEND_STORE_URI"]
    assert migrate["envFrom"] == server["containers"][0]["envFrom"]
    assert migrate["securityContext"]["readOnlyRootFilesystem"] is True
    assert migrate["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert migrate["resources"]["limits"]["ephemeral-storage"] == "512Mi"
    assert migrate["image"] == server["containers"][0]["image"]
    # Basic auth's user store is migrated beside it, from the auth Secret's ini.
    assert auth["name"] == "auth-db-migrate" and auth["command"] == ["python"]
    assert "init_db" in auth["args"][1]
    assert {m["name"] for m in auth["volumeMounts"]} == {"tmp", "auth-config"}
    proxies = [c for c in pod.get("initContainers", []) if c["name"] == "cloud-sql-proxy"]
    # Cloud SQL stacks reach it through the Auth Proxy, as the server does.
    assert len(proxies) == (1 if stack in ("dev", "staging", "prod") else 0)
    for proxy in proxies:
        assert proxy["restartPolicy"] == "Always"
        assert proxy == server["initContainers"][0]


def test_the_migration_pods_admit_no_connection(stacks: dict[str, Capture]) -> None:
    policy = stacks["dev"].one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mlflow-migrate")
    job_labels = _job_pod_labels(stacks["dev"])
    assert policy.inputs["spec"] == {
        "podSelector": {"matchLabels": job_labels},
        "policyTypes": ["Ingress"],
    }
    server_labels = stacks["dev"].one(DEPLOYMENT).inputs["spec"]["selector"]["matchLabels"]
    assert job_labels != server_labels, "the Service must not send traffic to the Job's pod"


def _job_pod_labels(capture: Capture) -> dict[str, str]:
    return cast(dict[str, str], capture.one(JOB).inputs["spec"]["template"]["metadata"]["labels"])


@pytest.mark.parametrize("stack", STACKS)
def test_a_backup_before_the_migration_only_on_cloud_sql(
    stacks: dict[str, Capture], stack: str
) -> None:
    capture = stacks[stack]
    backup = _backup(capture)
    if stack not in CLOUD_SQL_STACKS:
        assert backup is None and "upgrade_backup_id" not in capture.outputs
        return
    assert backup is not None
    job = capture.one(JOB)
    assert capture.depends_on(job, backup), "the Job must wait for the backup"
    instance = capture.one("gcp:sql/databaseInstance:DatabaseInstance")
    assert capture.depends_on(backup, instance)
    assert (
        backup.inputs["environment"]["DESCRIPTION"]
        == f"mlflow-platform {stack}: before MLflow 3.17.2"
    )
    assert (
        backup.inputs["environment"]["PROJECT"]
        == stack_config(stack)["mlflow-platform:gcp"]["project"]
    )
    # A new instance: its first `up` backs nothing up; a version change (an update of the step,
    # as the version is in its description) does. No triggers: they would replace the step, and
    # every replacement runs `create`.
    assert backup.inputs["create"] == NOTHING_TO_BACK_UP_SCRIPT
    assert backup.inputs["update"] == BACKUP_SCRIPT
    assert "triggers" not in backup.inputs
    assert capture.outputs["upgrade_backup_id"] == (None, False)


def test_an_adopted_instance_is_backed_up_at_its_first_up() -> None:
    config = with_overrides(stack_config("prod"), database__import_instance="mlflow-legacy")
    capture = run_stack("prod", config)
    backup = _backup(capture)
    assert backup is not None
    assert backup.inputs["create"] == backup.inputs["update"] == BACKUP_SCRIPT
    # The stack output is the id gcloud printed, without the newline.
    assert capture.outputs["upgrade_backup_id"] == (MOCK_BACKUP_ID, False)


def test_a_version_bump_names_a_new_job_and_describes_a_new_backup() -> None:
    config = with_overrides(stack_config("prod"), mlflow__version="3.18.0")
    capture = run_stack("prod", config)
    assert capture.one(JOB).inputs["metadata"]["name"] == "mlflow-migrate-3-18-0"
    backup = _backup(capture)
    assert backup is not None
    assert "before MLflow 3.18.0" in backup.inputs["environment"]["DESCRIPTION"]
    image = capture.one(DEPLOYMENT).inputs["spec"]["template"]["spec"]["containers"][0]["image"]
    assert (
        image == "ghcr.io/mlflow/mlflow:v3.18.0-full" == _job_pod(capture)["containers"][0]["image"]
    )


def test_the_backup_can_be_turned_off() -> None:
    config = with_overrides(stack_config("staging"), database__backup_before_upgrade=False)
    capture = run_stack("staging", config)
    assert _backup(capture) is None and "upgrade_backup_id" not in capture.outputs
    assert capture.one(JOB).urn in capture.one(DEPLOYMENT).dependencies


def test_job_names_are_kubernetes_names() -> None:
    assert job_name("mlflow", "3.17.2") == "mlflow-migrate-3-17-2"
    assert job_name("mlflow", "3.18.0rc1") == "mlflow-migrate-3-18-0rc1"
    long = job_name("x" * 60, "3.17.2")
    assert len(long) <= 63 and not long.endswith("-")
    assert TIMEOUT == "30m"


@pytest.mark.parametrize(
    ("stack", "value", "fragments"),
    [
        ("prod", "sometimes", ["database.backup_before_upgrade", "'sometimes'"]),
        ("local", True, ["database.backup_before_upgrade", "unknown key"]),
    ],
)
def test_a_bad_backup_setting_is_refused_and_registers_nothing(
    stack: str, value: object, fragments: list[str]
) -> None:
    capture = Capture()
    config = with_overrides(stack_config(stack), database__backup_before_upgrade=value)
    with pytest.raises(ConfigError) as excinfo:
        run_stack(stack, config, capture=capture)
    assert any(all(f in line for f in fragments) for line in excinfo.value.problems), (
        excinfo.value.problems
    )
    assert {r.type for r in capture.registrations} <= {"pulumi:pulumi:Stack"}


# --- the backup's script, against a stand-in gcloud -----------------------------------------

FAKE_GCLOUD = """#!/bin/sh
printf '%s\\n' "$*" >> "$GCLOUD_LOG"
case "$1 $2 $3" in
  "sql backups create") exit "${CREATE_EXIT:-0}" ;;
  "sql backups list") printf '%s\\n' "$LISTED" ;;
  *) exit 2 ;;
esac
"""


def _run_backup_script(
    tmp_path: Path, listed: str, create_exit: int = 0
) -> tuple[subprocess.CompletedProcess[str], list[str], dict[str, str]]:
    backup = _backup(run_stack("prod"))
    assert backup is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(FAKE_GCLOUD)
    gcloud.chmod(0o755)
    log = tmp_path / "gcloud.log"
    env = {
        **os.environ,
        **backup.inputs["environment"],
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GCLOUD_LOG": str(log),
        "LISTED": listed,
        "CREATE_EXIT": str(create_exit),
    }
    result = subprocess.run(
        ["/bin/sh", "-c", backup.inputs["update"]], env=env, capture_output=True, text=True
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls, backup.inputs["environment"]


def test_the_backup_script_creates_then_prints_the_backups_id(tmp_path: Path) -> None:
    result, calls, env = _run_backup_script(tmp_path, listed="1764086400123")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1764086400123\n"
    create, listing = calls
    assert create.startswith("sql backups create ")
    assert f"--instance={env['INSTANCE']}" in create and f"--project={env['PROJECT']}" in create
    assert f"--description={env['DESCRIPTION']}" in create
    assert listing.startswith("sql backups list ")
    assert f'description="{env["DESCRIPTION"]}"' in listing and "type=ON_DEMAND" in listing
    assert "--format=value(id)" in listing and "--limit=1" in listing


def test_the_backup_script_fails_without_a_backup(tmp_path: Path) -> None:
    failed, calls, _ = _run_backup_script(tmp_path, listed="1", create_exit=1)
    assert failed.returncode != 0 and len(calls) == 1, "no listing after a failed create"
    unlisted, _, _ = _run_backup_script(tmp_path / "again", listed="")
    assert unlisted.returncode != 0 and "was listed" in unlisted.stderr
