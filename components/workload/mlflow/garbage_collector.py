"""`mlflow gc` on a schedule: purges deleted runs from the tracking database and their artifacts
from the artifact store, without the server and without an MLflow login.

With `--serve-artifacts` a run's artifacts are `mlflow-artifacts:/<path>`, which `mlflow gc`
would delete through the server's HTTP proxy, logged in as a user allowed to delete in every
experiment: in MLflow's basic auth only an admin is. The server itself keeps `<path>` at
`<artifacts destination>/<path>` (the bucket, or the volume), so the wrapper below resolves the
scheme there and `mlflow gc` deletes directly, as the server would. The collector then holds the
database URI (from the environment, never in argv) and reaches the artifacts as the server's
service account does; it holds no MLflow credentials, and nothing it sends crosses the network
in clear text.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.config.uploads import MIGRATION_EPHEMERAL, MiB
from components.shared import kube
from components.workload.mlflow.containers import mlflow_container, proxy_sidecars
from components.workload.mlflow.pod import PodParts
from components.workload.mlflow.server_args import UID, MlflowServerArgs

GC_LABELS = kube.labels("mlflow", "garbage-collector")

# `mlflow gc` with `mlflow-artifacts:` resolved to the destination, and the database URI (the
# only secret) passed in-process: neither the URI nor a password is on this process's argv.
GC_SCRIPT = """\
import os
import sys
from urllib.parse import urlsplit

from mlflow.cli import gc
from mlflow.store.artifact.artifact_repository_registry import (
    _artifact_repository_registry as registry,
    get_artifact_repository,
)
from mlflow.utils.uri import validate_path_is_safe

destination = os.environ["TRACKING_ARTIFACTS_DESTINATION"].rstrip("/")
backend = os.environ["MLFLOW_BACKEND_STORE_URI"]


def served_artifacts(uri, *args, **kwargs):
    path = validate_path_is_safe(urlsplit(uri).path.lstrip("/"))
    return get_artifact_repository(f"{destination}/{path}")


registry.register("mlflow-artifacts", served_artifacts)
gc.main(
    ["--backend-store-uri", backend, "--tracking-uri", backend, *sys.argv[1:]],
    prog_name="mlflow gc",
)
"""


def gc_command(older_than: str) -> list[str]:
    return ["python", "-c", GC_SCRIPT, "--older-than", older_than]


def gc_container(args: MlflowServerArgs, parts: PodParts) -> k8s.core.v1.ContainerArgs:
    """The database URI is its only secret; the artifact volume, if any, is mounted as in the
    server."""
    return mlflow_container(
        "gc",
        gc_command(args.gc_older_than),
        args,
        parts.environment,
        parts.environment.backend(),
        parts.mounts,
        f"{MIGRATION_EPHEMERAL // MiB}Mi",
    )


def beside_the_server(
    args: MlflowServerArgs, server_labels: dict[str, str]
) -> k8s.core.v1.AffinityArgs | None:
    """A ReadWriteOnce artifact volume is mounted on one node at a time: the server's."""
    if args.artifact_volume is None or not args.artifact_volume.one_pod_at_a_time:
        return None
    return k8s.core.v1.AffinityArgs(
        pod_affinity=k8s.core.v1.PodAffinityArgs(
            required_during_scheduling_ignored_during_execution=[
                k8s.core.v1.PodAffinityTermArgs(
                    label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=server_labels),
                    topology_key="kubernetes.io/hostname",
                )
            ]
        )
    )


def garbage_collection_spec(
    args: MlflowServerArgs, parts: PodParts, server_labels: dict[str, str]
) -> k8s.batch.v1.CronJobSpecArgs:
    """Daily by default, one at a time, with the Auth Proxy beside it where the server has one."""
    proxy = proxy_sidecars(args)
    return k8s.batch.v1.CronJobSpecArgs(
        schedule=args.gc_schedule,
        concurrency_policy="Forbid",
        successful_jobs_history_limit=1,
        failed_jobs_history_limit=3,
        job_template=k8s.batch.v1.JobTemplateSpecArgs(
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=2,
                template=kube.pod_template(
                    GC_LABELS,
                    UID,
                    [gc_container(args, parts)],
                    service_account_name=parts.service_account,
                    init_containers=proxy or None,
                    restart_policy="OnFailure",
                    volumes=parts.volumes,
                    affinity=beside_the_server(args, server_labels),
                ),
            )
        ),
    )


def no_ingress(
    name: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> k8s.networking.v1.NetworkPolicy:
    """The collector's pods serve nothing: no connection may open to them (egress stays open)."""
    return k8s.networking.v1.NetworkPolicy(
        f"{name}-gc",
        metadata=kube.metadata(f"{name}-gc", namespace, GC_LABELS),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=GC_LABELS),
            policy_types=["Ingress"],
        ),
        opts=opts,
    )
