"""Keyless access from the MLflow pods to GCS and Cloud SQL through GKE Workload Identity."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.shared.base import Component


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    project: str
    """The project of the service account and of the Workload Identity pool (`gcp.project`)."""
    account_id: str
    """The Google service account's id (the platform's: `mlflow-<stack>`, cut to 30 characters)."""
    namespace: str
    """The namespace of the Kubernetes service account that may act as it (`mlflow.namespace`)."""
    kubernetes_service_account: str
    """The Kubernetes service account that may act as it (MlflowServer's: `mlflow`)."""
    bucket_name: pulumi.Input[str] | None
    """The bucket whose objects it may read and write; None: no bucket grant."""
    cloud_sql: bool
    """Whether it may connect to Cloud SQL (roles/cloudsql.client, project-wide)."""


class WorkloadIdentity(Component):
    """A Google service account that one Kubernetes service account may act as. No keys."""

    email: pulumi.Output[str]
    """The Google service account's e-mail, for the Kubernetes service account's annotation."""

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.service_account = gcp.serviceaccount.Account(
            name,
            project=args.project,
            account_id=args.account_id,
            display_name="MLflow tracking server",
            opts=child,
        )
        member = self.service_account.email.apply(lambda email: f"serviceAccount:{email}")
        ksa = f"{args.project}.svc.id.goog[{args.namespace}/{args.kubernetes_service_account}]"
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=self.service_account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{ksa}",
            opts=child,
        )
        if args.bucket_name is not None:
            # Scoped to the one bucket, not the project.
            gcp.storage.BucketIAMMember(
                f"{name}-artifacts",
                bucket=args.bucket_name,
                role="roles/storage.objectAdmin",
                member=member,
                opts=child,
            )
        if args.cloud_sql:
            gcp.projects.IAMMember(
                f"{name}-cloudsql-client",
                project=args.project,
                role="roles/cloudsql.client",
                member=member,
                opts=child,
            )
        self.email = self.service_account.email
        self.register_declared_outputs()
