"""One CI identity: a service account that one GitHub environment may act as, with its roles."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from bootstrap.identities import (
    PROJECT_IAM_ADMIN,
    CiIdentity,
    github_subject,
    grant_limit_condition,
    principal,
    state_condition,
)
from components.shared.base import Component


@dataclass(frozen=True)
class CiServiceAccountArgs:
    identity: CiIdentity
    ci_project: str  # where the account, the state bucket and the keys live
    stack_project: str  # where the stack's resources live
    repository: str  # OWNER/REPO
    pool_name: pulumi.Input[str]
    state_bucket: pulumi.Input[str]
    secrets_key_id: pulumi.Input[str]


def state_role(identity: CiIdentity) -> str:
    return "roles/storage.objectUser" if identity.writes_state else "roles/storage.objectViewer"


class CiServiceAccount(Component):
    """A service account bound to exactly one GitHub environment's subject, holding the roles
    its purpose needs on its stack's project, its stack's state objects and its stack's key."""

    email: pulumi.Output[str]
    """The account's e-mail: the GitHub environment's `GCP_SERVICE_ACCOUNT` variable."""
    member: pulumi.Output[str]
    """The workload identity (principal://...) that may act as this account."""

    def __init__(
        self, name: str, args: CiServiceAccountArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = args.identity
        self.account = gcp.serviceaccount.Account(
            name,
            project=args.ci_project,
            account_id=identity.account_id,
            display_name=f"CI {identity.purpose} of {identity.stack}",
            description=f"GitHub environment {identity.environment} of {args.repository}",
            opts=child,
        )
        subject = github_subject(args.repository, identity.environment)
        self.member = pulumi.Output.from_input(args.pool_name).apply(
            lambda pool: principal(pool, subject)
        )
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=self.account.name,
            role="roles/iam.workloadIdentityUser",
            member=self.member,
            opts=child,
        )
        account = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        self._grant(name, args, account, child)
        self.email = self.account.email
        self.register_declared_outputs()

    def _grant(
        self,
        name: str,
        args: CiServiceAccountArgs,
        account: pulumi.Output[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        identity = args.identity
        for role in identity.roles:
            gcp.projects.IAMMember(
                f"{name}-{role.rsplit('/', 1)[-1]}",
                project=args.stack_project,
                role=role,
                member=account,
                opts=child,
            )
        if identity.grants_project_iam:
            gcp.projects.IAMMember(
                f"{name}-grants",
                project=args.stack_project,
                role=PROJECT_IAM_ADMIN,
                member=account,
                condition=gcp.projects.IAMMemberConditionArgs(
                    title="platform grants only",
                    expression=grant_limit_condition(),
                ),
                opts=child,
            )
        gcp.storage.BucketIAMMember(
            f"{name}-state",
            bucket=args.state_bucket,
            role=state_role(identity),
            member=account,
            condition=gcp.storage.BucketIAMMemberConditionArgs(
                title=f"state of {identity.stack}",
                expression=pulumi.Output.from_input(args.state_bucket).apply(
                    lambda bucket: state_condition(bucket, identity.stack)
                ),
            ),
            opts=child,
        )
        gcp.kms.CryptoKeyIAMMember(
            f"{name}-secrets",
            crypto_key_id=args.secrets_key_id,
            role=identity.kms_role,
            member=account,
            opts=child,
        )
