"""The MLflow server's pod and workloads as plain builders: the Deployment, the migration Job's
template, the rollout, the spread, the autoscaler and the Ingress annotations (its containers:
containers.py). Tests call them without mocks."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config.uploads import MIGRATION_EPHEMERAL, MiB
from components.shared import kube
from components.workload import metrics
from components.workload.ingress import nginx
from components.workload.ingress.f5 import f5_annotations
from components.workload.mlflow import migration
from components.workload.mlflow.containers import (
    ContainerEnvironment,
    init_containers,
    mlflow_container,
    proxy_sidecars,
    server_container,
)
from components.workload.mlflow.server_args import (
    UID,
    MlflowServerArgs,
)


def migration_template(args: MlflowServerArgs, parts: PodParts) -> k8s.core.v1.PodTemplateSpecArgs:
    """The migration Job's pod: `mlflow db upgrade` (and, beside it, the basic-auth user
    store's), with the server's settings, Secret, service account and Auth Proxy sidecar."""
    environment, tmp = parts.environment, parts.mounts[0]
    scratch = f"{MIGRATION_EPHEMERAL // MiB}Mi"
    containers = [
        mlflow_container(
            "db-migrate",
            migration.db_upgrade_command(),
            args,
            environment,
            environment.backend(),
            [tmp],
            scratch,
        )
    ]
    if environment.auth is not None:
        containers.append(
            mlflow_container(
                "auth-db-migrate",
                migration.auth_upgrade_command(),
                args,
                environment,
                environment.user_store(),
                [tmp, *environment.mounts()],
                scratch,
            )
        )
    return kube.pod_template(
        migration.LABELS,
        UID,
        containers,
        service_account_name=parts.service_account,
        init_containers=proxy_sidecars(args) or None,
        restart_policy="Never",
        volumes=[
            kube.empty_dir("tmp", "1Gi"),
            *([environment.auth.volume()] if environment.auth else []),
        ],
    )


def deployment_strategy(args: MlflowServerArgs) -> k8s.apps.v1.DeploymentStrategyArgs:
    # A ReadWriteOnce artifact volume cannot be mounted by old and new pod at once.
    if args.artifact_volume is not None and args.artifact_volume.one_pod_at_a_time:
        return k8s.apps.v1.DeploymentStrategyArgs(type="Recreate")
    return k8s.apps.v1.DeploymentStrategyArgs(
        type="RollingUpdate",
        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
    )


def zone_spread(labels: dict[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key="topology.kubernetes.io/zone",
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
        )
    ]


@dataclass(frozen=True)
class PodParts:
    """What the pod template is made of besides the args."""

    labels: dict[str, str]
    service_account: pulumi.Input[str]
    environment: ContainerEnvironment
    volumes: list[k8s.core.v1.VolumeArgs]
    mounts: list[k8s.core.v1.VolumeMountArgs]


def deployment_spec(args: MlflowServerArgs, parts: PodParts) -> k8s.apps.v1.DeploymentSpecArgs:
    return k8s.apps.v1.DeploymentSpecArgs(
        replicas=args.replicas,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=parts.labels),
        strategy=deployment_strategy(args),
        template=kube.pod_template(
            parts.labels,
            UID,
            [
                server_container(args, parts.environment, parts.mounts),
                metrics.metrics_sidecar(args.image, UID),
            ],
            service_account_name=parts.service_account,
            init_containers=init_containers(args, parts.environment, parts.mounts[0]) or None,
            volumes=[
                *parts.volumes,
                *([parts.environment.auth.volume()] if parts.environment.auth else []),
                metrics.metrics_volume(),
            ],
            topology_spread_constraints=(
                zone_spread(parts.labels) if args.highly_available else None
            ),
        ),
    )


def ingress_annotations(args: MlflowServerArgs) -> dict[str, pulumi.Input[str]]:
    """Body size and timeouts; https (redirect, certificate); the external sign-in: in the
    annotation family of the controller that reads them."""
    if args.ingress_controller != "f5-nginx":
        return nginx.ingress_annotations(
            args.proxy_body_size,
            tls=bool(args.tls_secret),
            redirect_to_https=args.redirect_to_https,
            cluster_issuer=args.cluster_issuer,
            external_auth=args.external_auth,
        )
    if args.external_auth is not None:
        raise ValueError("the external sign-in needs ingress-nginx: F5 NIC has no auth-url")
    annotations: dict[str, pulumi.Input[str]] = dict(
        f5_annotations(
            args.proxy_body_size,
            tls=bool(args.tls_secret),
            redirect_to_https=args.redirect_to_https,
            certificate_issued=args.cluster_issuer is not None,
        )
    )
    if args.cluster_issuer is not None:
        annotations["cert-manager.io/cluster-issuer"] = args.cluster_issuer
    return annotations


def autoscaler_spec(
    args: MlflowServerArgs, deployment: pulumi.Input[str]
) -> k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs:
    return k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
        scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
            api_version="apps/v1", kind="Deployment", name=deployment
        ),
        min_replicas=args.replicas,
        max_replicas=args.max_replicas,
        metrics=[
            k8s.autoscaling.v2.MetricSpecArgs(
                type="Resource",
                resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                    name="cpu",
                    target=k8s.autoscaling.v2.MetricTargetArgs(
                        type="Utilization", average_utilization=args.target_cpu_utilization
                    ),
                ),
            )
        ],
    )
