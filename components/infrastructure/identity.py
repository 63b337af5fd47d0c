"""Keyless access from the MLflow pods to GCS and Cloud SQL through GKE Workload Identity."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.shared.base import Component


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    project: str
    account_id: str
    namespace: str
    kubernetes_service_account: str
    bucket_name: pulumi.Input[str] | None
    cloud_sql: bool


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
