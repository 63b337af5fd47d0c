"""Safe upgrades: the schema migration as a Job that runs once per MLflow version, after an
on-demand Cloud SQL backup and before the server's Deployment rolls.

`mlflow db upgrade` rewrites the schema in place and MLflow's own help says to back the
database up first. Run from an init container it ran in every new pod of a rolling update,
several at once, with no backup. Here:

- the Job is named after the version (`mlflow-migrate-3-17-2`): a version bump renames it,
  which Pulumi carries out as delete-then-create, so the new Job runs once; the Deployment
  depends on it and Pulumi waits for the Job to complete before it touches the Deployment;
- a failed migration fails `pulumi up` with the server still on the old version;
- the finished Job is kept (no ttlSecondsAfterFinished): were Kubernetes to delete it, a
  `pulumi refresh` would drop it from the state and the next `up` would run it again;
- on Cloud SQL, `gcloud sql backups create` runs first whenever the version changes, and the
  backup's id becomes a stack output for the rollback runbook (docs/operations.md). An adopted
  instance (`database.import_instance`) is backed up at its first `up` too; a new one is not: it
  holds nothing yet, and its backup would only lengthen the stack's first `up` (about two
  minutes on prod's critical path).
"""

from __future__ import annotations

import re

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from components.shared import kube

LABELS = kube.labels("mlflow", "migration")
# Each retry reruns the whole pod; Alembic migrations are transactional on PostgreSQL.
BACKOFF_LIMIT = 2
# Pulumi waits 10 minutes for a Job by default; a large tracking database migrates longer.
TIMEOUT = "30m"
KUBERNETES_NAME_MAX = 63

# `mlflow db upgrade` takes the database URI only as an argument, which would put the password in
# the process's argv (/proc/<pid>/cmdline, `ps`); this runs the same command's body with the URI
# read from the environment (MLflow's own variable), so it never appears on a command line.
DB_UPGRADE_SCRIPT = """\
import os

from mlflow.db import upgrade

upgrade.callback(os.environ["MLFLOW_BACKEND_STORE_URI"])
print("the tracking database is at its head revision")
"""

# MLflow's basic-auth user store has migrations of its own, which `init_db` applies.
AUTH_UPGRADE_SCRIPT = """\
from mlflow.server.auth.config import read_auth_config
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

SqlAlchemyStore().init_db(read_auth_config().database_uri)
print("the basic-auth user store is at its head revision")
"""

# The backup's id is read back by its description, which names the version: `backups create`
# waits for the backup to finish but does not print its id.
BACKUP_SCRIPT = """\
set -eu
gcloud sql backups create --instance="$INSTANCE" --project="$PROJECT" \\
  --description="$DESCRIPTION" --quiet >&2
id="$(gcloud sql backups list --instance="$INSTANCE" --project="$PROJECT" \\
  --filter="type=ON_DEMAND AND description=\\"$DESCRIPTION\\"" \\
  --sort-by=~windowStartTime --limit=1 --format="value(id)")"
test -n "$id" || { echo "no on-demand backup \\"$DESCRIPTION\\" was listed" >&2; exit 1; }
echo "$id"
"""

# A new instance's first migration has nothing to protect: the step records that and ends.
NOTHING_TO_BACK_UP_SCRIPT = """\
echo "a new instance holds no data yet: no backup before its first migration" >&2
"""


def job_name(prefix: str, version: str) -> str:
    """`<prefix>-migrate-<version>` as a Kubernetes name: `mlflow-migrate-3-17-2`."""
    suffix = re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")
    return f"{prefix}-migrate-{suffix}"[:KUBERNETES_NAME_MAX].rstrip("-")


def db_upgrade_command() -> list[str]:
    return ["python", "-c", DB_UPGRADE_SCRIPT]


def auth_upgrade_command() -> list[str]:
    return ["python", "-c", AUTH_UPGRADE_SCRIPT]


def backup_description(stack: str, version: str) -> str:
    return f"mlflow-platform {stack}: before MLflow {version}"


def job_spec(template: k8s.core.v1.PodTemplateSpecArgs) -> k8s.batch.v1.JobSpecArgs:
    return k8s.batch.v1.JobSpecArgs(
        backoff_limit=BACKOFF_LIMIT, completions=1, parallelism=1, template=template
    )


def migration_job(
    name: str,
    namespace: pulumi.Input[str],
    version: str,
    template: k8s.core.v1.PodTemplateSpecArgs,
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    """The Job, which Pulumi awaits. A new version or a changed pod (its template is immutable)
    replaces it; the old one goes first, since a changed pod keeps the name."""
    return k8s.batch.v1.Job(
        f"{name}-migrate",
        metadata=kube.metadata(job_name(name, version), namespace, LABELS),
        spec=job_spec(template),
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                delete_before_replace=True,
                custom_timeouts=pulumi.CustomTimeouts(create=TIMEOUT, update=TIMEOUT),
            ),
        ),
    )


def no_ingress(
    name: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> k8s.networking.v1.NetworkPolicy:
    """The migration pods serve nothing: no connection may open to them (egress stays open)."""
    return k8s.networking.v1.NetworkPolicy(
        f"{name}-migrate",
        metadata=kube.metadata(f"{name}-migrate", namespace, LABELS),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=LABELS),
            policy_types=["Ingress"],
        ),
        opts=opts,
    )


def cloud_sql_backup(
    name: str,
    project: str,
    instance: pulumi.Input[str],
    description: str,
    adopted: bool,
    opts: pulumi.ResourceOptions,
) -> command.local.Command:
    """An on-demand backup taken where `pulumi up` runs (gcloud, logged in) whenever the MLflow
    version changes, and at the first `up` only if the instance was adopted; its stdout is the
    backup's id (empty when none was needed). Deleting it leaves the backups alone.

    The version is in the description, an input: a version change is an update, which runs the
    backup (`update`), while a first `up` runs `create`. `triggers` would replace the step on
    every change and run `create` each time, so a new instance could not be told apart."""
    return command.local.Command(
        f"{name}-upgrade-backup",
        create=BACKUP_SCRIPT if adopted else NOTHING_TO_BACK_UP_SCRIPT,
        update=BACKUP_SCRIPT,
        environment={"INSTANCE": instance, "PROJECT": project, "DESCRIPTION": description},
        opts=opts,
    )
