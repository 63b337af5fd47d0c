"""The MLflow pod's containers as plain builders: the server (its settings, environment and
arguments), the init containers, the Cloud SQL Auth Proxy and the sidecars."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_kubernetes as k8s

from components.config.uploads import MIGRATION_EPHEMERAL, PROXY_EPHEMERAL, MiB
from components.shared import kube
from components.stores.database import DatabaseEndpoint
from components.workload import metrics
from components.workload.mlflow.auth import (
    AuthSecret,
    apply_admin_command,
)
from components.workload.mlflow.server_args import (
    ENV_ALLOWED_HOSTS,
    ENV_ARTIFACTS_DESTINATION,
    ENV_BACKEND_STORE_URI,
    ENV_WORKERS,
    HEALTH_PATH,
    PORT,
    PROXY_HEALTH_PORT,
    UID,
    MlflowServerArgs,
)


def allowed_hosts(host: str, service: str, namespace: str, extra: list[str]) -> list[str]:
    """Host headers MLflow accepts: the ingress host and the in-cluster Service names.

    Each name is allowed bare and with any port (NodePort and port-forward add one).
    """
    names = [
        host,
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
        *extra,
    ]
    return [pattern for name in names for pattern in (name, f"{name}:*")]


# libpq waits for a TCP handshake as long as the kernel retries (about two minutes). When the
# database pod is replaced, a first SYN can be sent to the old pod's address and its retries
# follow it there (the connection-tracking entry outlives the pod); on a real node that stalled
# the migration Job for 2 min 20 s during a password rotation. A bounded wait lets MLflow retry
# on a new connection, which reaches the new pod.
CONNECT_TIMEOUT_SECONDS = 10


def backend_store_uri(endpoint: DatabaseEndpoint, host: pulumi.Input[str]) -> pulumi.Output[str]:
    """The SQLAlchemy URI, a secret because it embeds the password."""
    return pulumi.Output.secret(
        pulumi.Output.all(host, endpoint.password).apply(
            lambda v: (
                f"postgresql+psycopg2://{quote(endpoint.user, safe='')}:{quote(v[1], safe='')}"
                f"@{v[0]}:{endpoint.port}/{endpoint.database}?sslmode={endpoint.sslmode}"
                f"&connect_timeout={CONNECT_TIMEOUT_SECONDS}"
            )
        )
    )


def server_args(basic_auth: bool = False, extra: list[str] | None = None) -> list[str]:
    login = ["--app-name", "basic-auth"] if basic_auth else []
    return [
        "server",
        *login,
        "--host",
        "0.0.0.0",
        "--port",
        str(PORT),
        "--artifacts-destination",
        f"$({ENV_ARTIFACTS_DESTINATION})",
        "--serve-artifacts",
        "--allowed-hosts",
        f"$({ENV_ALLOWED_HOSTS})",
        "--workers",
        f"$({ENV_WORKERS})",
        *(extra or []),
    ]


def tracking_settings(
    args: MlflowServerArgs,
    service: str,
    destination: pulumi.Input[str],
    db_host: pulumi.Input[str],
) -> dict[str, pulumi.Input[str]]:
    """The ConfigMap's data: every server setting that is not a secret."""
    return {
        ENV_ARTIFACTS_DESTINATION: destination,
        ENV_ALLOWED_HOSTS: ",".join(
            allowed_hosts(args.host, service, args.namespace, args.extra_allowed_hosts)
        ),
        ENV_WORKERS: str(args.workers),
        # Where the database is, for people debugging; the credentials are in the Secret.
        "TRACKING_DATABASE_HOST": db_host,
        "TRACKING_DATABASE_NAME": args.backend.database,
        "HOME": "/tmp",
        "MLFLOW_DISABLE_TELEMETRY": "false" if args.telemetry else "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true" if args.job_execution else "false",
        "MLFLOW_LOGGING_LEVEL": args.log_level,
        **args.extra_env,
    }


@dataclass(frozen=True)
class ContainerEnvironment:
    """Where the MLflow containers' settings come from: the settings ConfigMap (all of them),
    the backend Secret and the auth Secret. Each container takes only the secrets it uses."""

    config_map: pulumi.Input[str]
    secret: pulumi.Input[str]
    auth: AuthSecret | None = None
    # mlflow.extra_secret_env: each a key of `secret`, read into the variable of its name.
    secret_names: tuple[str, ...] = ()

    def env_from(self) -> list[k8s.core.v1.EnvFromSourceArgs]:
        return [
            k8s.core.v1.EnvFromSourceArgs(
                config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=self.config_map)
            )
        ]

    def backend(self) -> list[k8s.core.v1.EnvVarArgs]:
        """The tracking database's URI: the server, the migration and the garbage collector."""
        return [kube.secret_env(ENV_BACKEND_STORE_URI, self.secret, "backend-store-uri")]

    def server(self) -> list[k8s.core.v1.EnvVarArgs]:
        """The database, the user store's ini and CSRF key, the user's own secrets."""
        auth = [self.auth.config_env(), self.auth.csrf_key_env()] if self.auth else []
        extra = [kube.secret_env(name, self.secret, name) for name in self.secret_names]
        return [*self.backend(), *auth, *extra]

    def admin(self) -> list[k8s.core.v1.EnvVarArgs]:
        """`auth-admin`: the user store's ini and the admin password it applies."""
        assert self.auth is not None
        return [self.auth.config_env(), self.auth.admin_password_env()]

    def user_store(self) -> list[k8s.core.v1.EnvVarArgs]:
        """`auth-db-migrate`: the user store's ini only."""
        assert self.auth is not None
        return [self.auth.config_env()]

    def mounts(self) -> list[k8s.core.v1.VolumeMountArgs]:
        return [self.auth.mount()] if self.auth else []


def mlflow_container(
    name: str,
    command: list[str],
    args: MlflowServerArgs,
    environment: ContainerEnvironment,
    env: list[k8s.core.v1.EnvVarArgs],
    mounts: list[k8s.core.v1.VolumeMountArgs],
    ephemeral_storage: str,
    **serving: Any,
) -> k8s.core.v1.ContainerArgs:
    """An `mlflow` container with the image, settings, resources and security all share; `env`:
    the secrets it uses, and only those."""
    res = args.resources
    return k8s.core.v1.ContainerArgs(
        name=name,
        image=args.image,
        image_pull_policy="Always",
        command=command[:1],
        args=command[1:],
        env_from=environment.env_from(),
        env=env,
        resources=kube.resources(
            res.cpu_request, res.memory_request, res.cpu_limit, res.memory_limit, ephemeral_storage
        ),
        security_context=kube.container_security_context(UID),
        volume_mounts=mounts,
        **serving,
    )


# A terminating pod leaves the Service's endpoints at once, but every node's kube-proxy (and the
# ingress controller) takes a moment to drop it; until then new connections still arrive. uvicorn
# stops listening on SIGTERM, so the server keeps serving this long first. On a real node, one pod
# evicted during 200 requests lost 3 of them with no wait. With 5 s, 1 was lost once while other
# tests kept both cores busy (at the tail of a rollout, so 5 s is not proven short); 10 s leaves
# margin for a busy node at 5 s more per stopping pod, well inside the 30 s grace period.
DRAIN_SECONDS = 10


def server_container(
    args: MlflowServerArgs,
    environment: ContainerEnvironment,
    mounts: list[k8s.core.v1.VolumeMountArgs],
) -> k8s.core.v1.ContainerArgs:
    return mlflow_container(
        "mlflow",
        [
            "mlflow",
            *server_args(
                environment.auth is not None, [*metrics.exporter_args(), *args.extra_args]
            ),
        ],
        args,
        environment,
        environment.server(),
        [*mounts, *environment.mounts(), metrics.metrics_mount()],
        args.scratch.server_quantity,
        ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=PORT)],
        startup_probe=kube.http_probe(HEALTH_PATH, "http", period=5, failure_threshold=60),
        readiness_probe=kube.http_probe(HEALTH_PATH, "http", period=10, failure_threshold=3),
        liveness_probe=kube.http_probe(HEALTH_PATH, "http", period=20, failure_threshold=3),
        lifecycle=k8s.core.v1.LifecycleArgs(
            pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                sleep=k8s.core.v1.SleepActionArgs(seconds=DRAIN_SECONDS)
            )
        ),
    )


def proxy_sidecars(args: MlflowServerArgs) -> list[k8s.core.v1.ContainerArgs]:
    """The Cloud SQL Auth Proxy, for every pod that talks to a Cloud SQL instance."""
    if not args.uses_cloud_sql_proxy or args.backend.connection_name is None:
        return []
    return [
        cloud_sql_proxy_container(
            args.cloud_sql_proxy_image, args.backend.connection_name, args.backend.private_ip
        )
    ]


def init_containers(
    args: MlflowServerArgs, environment: ContainerEnvironment, tmp: k8s.core.v1.VolumeMountArgs
) -> list[k8s.core.v1.ContainerArgs]:
    """The Auth Proxy sidecar first (when used), then the admin user; the schema is migrated
    by the migration Job before the pods roll."""
    containers = proxy_sidecars(args)
    if environment.auth is not None:
        containers.append(
            mlflow_container(
                "auth-admin",
                apply_admin_command(),
                args,
                environment,
                environment.admin(),
                [tmp, *environment.mounts()],
                f"{MIGRATION_EPHEMERAL // MiB}Mi",
            )
        )
    return containers


def cloud_sql_proxy_container(
    image: str, connection_name: pulumi.Input[str], private_ip: bool = True
) -> k8s.core.v1.ContainerArgs:
    """Cloud SQL Auth Proxy 2.x as a native sidecar: an init container that keeps running.
    It reaches the instance's private IP, or (public IP) its public one, where it connects
    with an IAM-issued client certificate and verifies the instance's server certificate."""
    return k8s.core.v1.ContainerArgs(
        name="cloud-sql-proxy",
        image=image,
        image_pull_policy="Always",
        restart_policy="Always",
        args=[
            *(["--private-ip"] if private_ip else []),
            "--structured-logs",
            "--port=5432",
            "--health-check",
            "--http-address=0.0.0.0",
            f"--http-port={PROXY_HEALTH_PORT}",
            connection_name,
        ],
        ports=[
            k8s.core.v1.ContainerPortArgs(name="proxy-health", container_port=PROXY_HEALTH_PORT)
        ],
        resources=kube.resources("50m", "64Mi", "500m", "256Mi", f"{PROXY_EPHEMERAL // MiB}Mi"),
        security_context=kube.container_security_context(65532),
        startup_probe=kube.http_probe("/startup", "proxy-health", period=2, failure_threshold=30),
        liveness_probe=kube.http_probe("/liveness", "proxy-health", period=20, failure_threshold=3),
        readiness_probe=kube.http_probe(
            "/readiness", "proxy-health", period=10, failure_threshold=3
        ),
    )
