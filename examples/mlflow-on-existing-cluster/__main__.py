"""MLflow on a Kubernetes cluster you already have, composed from mlflow-platform's components.

kubeconfig context ─▶ ExistingCluster: its provider, for everything below
    ├─ InClusterPostgres   <namespace>-db: MLflow's and the login's databases
    ├─ IngressController   ingress-nginx on a NodePort, serving <namespace> only
    └─ MlflowServer        <namespace>: artifacts on a volume, basic auth
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

# The checkout's root, so `components` comes from it even in the deploy venv (as in infra/).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import pulumi

from components.infrastructure.cluster import ExistingCluster, ExistingClusterArgs
from components.stores.postgres import InClusterPostgres, InClusterPostgresArgs
from components.workload.ingress.controller import IngressController
from components.workload.ingress.controller_args import IngressControllerArgs
from components.workload.mlflow.auth import BasicAuthArgs
from components.workload.mlflow.server import MlflowServer
from components.workload.mlflow.server_args import ArtifactVolume, MlflowServerArgs


@dataclass(frozen=True)
class Settings:
    """This example's own stack config (`pulumi config set <key> <value>`)."""

    context: str
    kubeconfig: str = "~/.kube/config"
    namespace: str = "mlflow"
    host: str = "mlflow.local"
    # A local copy of the ingress-nginx chart (air-gapped); unset: the pinned chart's repository.
    ingress_chart_path: str | None = None

    @classmethod
    def from_stack(cls) -> Settings:
        config = pulumi.Config()
        return cls(
            context=config.require("context"),
            kubeconfig=config.get("kubeconfig") or cls.kubeconfig,
            namespace=config.get("namespace") or cls.namespace,
            host=config.get("host") or cls.host,
            ingress_chart_path=config.get("ingress_chart_path"),
        )


def main() -> None:
    s = Settings.from_stack()
    cluster = ExistingCluster("mlflow-cluster", ExistingClusterArgs(s.kubeconfig, s.context))
    on_cluster = pulumi.ResourceOptions(providers={"kubernetes": cluster.provider})

    # MLflow's login keeps its users in a database of its own, on the same PostgreSQL.
    auth = BasicAuthArgs()
    database = InClusterPostgres(
        "mlflow-postgres",
        InClusterPostgresArgs(
            namespace=f"{s.namespace}-db",
            client_namespace=s.namespace,  # the only namespace whose pods may connect
            extra_databases=[auth.database],
        ),
        opts=on_cluster,
    )
    ingress_args = IngressControllerArgs(
        service_type="NodePort",  # no cloud load balancer needed; LoadBalancer where there is one
        chart_path=s.ingress_chart_path,
        watch_namespaces=[s.namespace],
    )
    ingress = IngressController("mlflow-ingress", ingress_args, opts=on_cluster)
    mlflow = MlflowServer(
        "mlflow",
        MlflowServerArgs(
            host=s.host,
            backend=database.endpoint,
            # MlflowServer creates the claim itself (a VolumeArtifactStore) and mounts it.
            artifact_volume=ArtifactVolume(),
            namespace=s.namespace,
            ingress_namespace=ingress_args.namespace,  # the only one that reaches the pods
            basic_auth=auth,
            ingress_after=[ingress],  # the controller's admission webhook checks Ingresses
            start_after=[database],
        ),
        opts=on_cluster,
    )

    service = mlflow.service.metadata
    pulumi.export("namespace", mlflow.namespace_name)
    pulumi.export("url", pulumi.Output.concat(mlflow.url, f":{ingress_args.http_node_port}"))
    pulumi.export(
        "service_url",
        pulumi.Output.concat("http://", service.name, ".", service.namespace, ".svc.cluster.local"),
    )
    pulumi.export("database_host", database.host)
    pulumi.export("admin_username", auth.admin_username)
    pulumi.export("admin_password", mlflow.admin_password)


main()
