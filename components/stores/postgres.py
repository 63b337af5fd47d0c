"""PostgreSQL inside the cluster as MLflow's backend store (the local stack): a StatefulSet
on a volume."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.config import (
    InClusterPostgresConfig,
    MlflowConfig,
    default_of,
    defaults_from,
)
from components.shared import kube
from components.shared.base import Component
from components.shared.passwords import generated_password
from components.stores.database import POSTGRES_PORT, DatabaseEndpoint

_pg = defaults_from(InClusterPostgresConfig)


@dataclass(frozen=True)
class InClusterPostgresArgs:
    namespace: str = f"{default_of(MlflowConfig, 'namespace')}-db"
    """The database's own namespace, created here (the platform's: `<mlflow.namespace>-db`)."""
    client_namespace: str = default_of(MlflowConfig, "namespace")
    """The only namespace whose pods may connect to the database (`mlflow.namespace`)."""
    image: str = _pg("image")
    """The official postgres image, pinned (`database.image`)."""
    storage_size: str = _pg("storage_size")
    """The data volume's size, a Kubernetes quantity (`database.storage_size`)."""
    storage_class: str | None = _pg("storage_class")
    """The data volume's StorageClass (`database.storage_class`); None: the cluster's default."""
    database: str = _pg("database")
    """MLflow's database, created on the first start (`database.database`)."""
    user: str = _pg("user")
    """The user MLflow connects as, its password generated (`database.user`)."""
    password_rotation: str = _pg("password_rotation")
    """Any new value generates a new password; PostgreSQL restarts and applies it
    (`database.password_rotation`)."""
    extra_databases: list[str] = field(default_factory=list)
    """Databases besides `database`, owned by `user`, created at each start if missing (basic
    auth's user store)."""


# The official image runs as any UID (it provides a passwd entry through nss_wrapper);
# a high UID keeps it clear of host users.
POSTGRES_UID = 10001


# The image sets POSTGRES_PASSWORD only when it initialises an empty volume. This postStart hook
# applies the Secret's password on every start, so a rotation (new Secret -> new pod) takes effect,
# and creates the further databases the platform needs (basic auth's user store) if missing.
# It connects over the pod-local Unix socket, which the image trusts; the password travels in the
# environment, never on a command line. Retries cover the first boot's temporary server.
APPLY_PASSWORD_SCRIPT = """\
export EXTRA_DATABASES="${EXTRA_DATABASES-}"
for attempt in $(seq 30); do
  psql -X -w -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL' && exit 0
\\getenv role POSTGRES_USER
\\getenv password POSTGRES_PASSWORD
\\getenv databases EXTRA_DATABASES
ALTER ROLE :"role" PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', name, :'role')
  FROM unnest(string_to_array(:'databases', ' ')) AS name
 WHERE name <> '' AND NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\\gexec
SQL
  sleep 2
done
exit 1
"""


PGDATA_MOUNT = "/var/lib/postgresql/data"


def postgres_container(
    args: InClusterPostgresArgs, password_secret: pulumi.Input[str]
) -> k8s.core.v1.ContainerArgs:
    """The official image, read-only root, the password from the Secret and applied at start."""
    probe_command = ["pg_isready", "-U", args.user, "-d", args.database, "-h", "127.0.0.1"]
    return k8s.core.v1.ContainerArgs(
        name="postgres",
        image=args.image,
        image_pull_policy="Always",
        ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=POSTGRES_PORT)],
        env=[
            k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=args.database),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value=args.user),
            kube.secret_env("POSTGRES_PASSWORD", password_secret, "POSTGRES_PASSWORD"),
            k8s.core.v1.EnvVarArgs(name="PGDATA", value=f"{PGDATA_MOUNT}/pgdata"),
            k8s.core.v1.EnvVarArgs(name="EXTRA_DATABASES", value=" ".join(args.extra_databases)),
        ],
        resources=kube.resources("100m", "256Mi", "1", "512Mi"),
        security_context=kube.container_security_context(),
        lifecycle=k8s.core.v1.LifecycleArgs(
            post_start=k8s.core.v1.LifecycleHandlerArgs(
                exec_=k8s.core.v1.ExecActionArgs(command=["sh", "-c", APPLY_PASSWORD_SCRIPT])
            )
        ),
        readiness_probe=kube.exec_probe(probe_command, period=5),
        liveness_probe=kube.exec_probe(probe_command, period=20),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="data", mount_path=PGDATA_MOUNT),
            k8s.core.v1.VolumeMountArgs(name="run", mount_path="/var/run/postgresql"),
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
        ],
    )


def postgres_stateful_set_spec(
    name: str,
    args: InClusterPostgresArgs,
    labels: dict[str, str],
    password_secret: pulumi.Input[str],
) -> k8s.apps.v1.StatefulSetSpecArgs:
    """One replica, its data on a claim from the template, scratch space in emptyDirs."""
    return k8s.apps.v1.StatefulSetSpecArgs(
        service_name=name,
        replicas=1,
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
        template=kube.pod_template(
            labels,
            POSTGRES_UID,
            [postgres_container(args, password_secret)],
            volumes=[kube.empty_dir("run"), kube.empty_dir("tmp")],
        ),
        volume_claim_templates=[
            k8s.core.v1.PersistentVolumeClaimArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=labels),
                spec=kube.claim_spec(args.storage_size, args.storage_class),
            )
        ],
    )


class InClusterPostgres(Component):
    """A single PostgreSQL pod with a persistent volume, in its own namespace.

    For laptops and throwaway clusters, not for production.
    """

    token_module = "database"  # both lived in components/database.py until v0.2

    host: pulumi.Output[str]
    """The Service's cluster DNS name."""

    def __init__(
        self, name: str, args: InClusterPostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        labels = kube.labels("postgres", "database")
        self.namespace = kube.namespace(name, args.namespace, labels, self)
        child = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        password = generated_password(name, args.password_rotation, self)
        # Auto-named: a rotated password makes a new Secret, so the pod template changes and the
        # StatefulSet restarts PostgreSQL, whose postStart hook applies the new password.
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=kube.metadata(None, args.namespace, labels),
            type="Opaque",
            string_data={"POSTGRES_PASSWORD": password.result},
            opts=child,
        )
        service = kube.cluster_ip_service(
            name, args.namespace, labels, "postgres", POSTGRES_PORT, POSTGRES_PORT, child
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            name,
            metadata=kube.metadata(name, args.namespace, labels),
            spec=postgres_stateful_set_spec(name, args, labels, secret.metadata.name),
            opts=child,
        )
        kube.allow_ingress_only_from(
            name, args.namespace, labels, args.client_namespace, POSTGRES_PORT, child
        )
        self.host = pulumi.Output.concat(
            service.metadata.name, ".", service.metadata.namespace, ".svc.cluster.local"
        )
        self.endpoint = DatabaseEndpoint.on_postgres_port(
            self.host,
            args.database,
            args.user,
            password,
            sslmode="disable",  # in-cluster traffic on a laptop cluster
        )
        self.register_declared_outputs()
