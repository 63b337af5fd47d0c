"""Workload Identity Federation for GitHub Actions: one pool, one provider, this repository only."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from bootstrap.identities import ATTRIBUTE_MAPPING, attribute_condition
from components.shared.base import Component

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class GitHubFederationArgs:
    project: str
    repository_id: str
    repository_owner_id: str
    pool_id: str = "github"
    provider_id: str = "github-actions"


class GitHubFederation(Component):
    """Google accepts a GitHub Actions token only from this repository (by id), and a release
    environment's only from a protected main or v* ref. No service account keys exist."""

    pool_name: pulumi.Output[str]
    """`projects/NUMBER/locations/global/workloadIdentityPools/POOL`: principals are under it."""
    provider_name: pulumi.Output[str]
    """The provider's full name: the `workload_identity_provider` the workflows pass to auth."""

    def __init__(
        self, name: str, args: GitHubFederationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.pool = gcp.iam.WorkloadIdentityPool(
            name,
            project=args.project,
            workload_identity_pool_id=args.pool_id,
            display_name="GitHub Actions",
            opts=child,
        )
        self.provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-provider",
            project=args.project,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=args.provider_id,
            display_name="GitHub Actions OIDC",
            attribute_mapping=ATTRIBUTE_MAPPING,
            attribute_condition=attribute_condition(args.repository_id, args.repository_owner_id),
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=GITHUB_ISSUER),
            opts=child,
        )
        self.pool_name = self.pool.name
        self.provider_name = self.provider.name
        self.register_declared_outputs()
