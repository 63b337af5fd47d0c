"""minikube's gcp-auth addon, run as a least-privilege service account instead of the developer.

The addon copies one Google credential file into every pod of the cluster. Given the
developer's own application-default credentials, every pod could act with all of the
developer's rights (typically Owner of the project). Here the file is an *impersonated*
credential: the pods' Google clients exchange it for tokens of a service account that may only
use the stack's bucket and connect to its Cloud SQL instance.

What it cannot remove: an impersonated credential file carries the developer's refresh token
as its source, so a pod that reads the file itself (rather than through a Google client) can
still use it. The dev stack runs only the platform's own pods; see README "dev credentials".
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_gcp as gcp

from components.shared.base import Component

# The checkout (components/infrastructure/ is two levels down): the credential helper runs there.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Where the impersonated credential is written (0600), one file per stack.
CREDENTIALS_DIR = Path("~/.config/mlflow-platform").expanduser()


def credentials_file(stack: str) -> str:
    return str(CREDENTIALS_DIR / f"{stack}-gcp-auth.json")


def member_of(email: str) -> str:
    """The IAM member for the identity running Pulumi (a person or, in CI, a service account)."""
    kind = "serviceAccount" if email.endswith(".gserviceaccount.com") else "user"
    return f"{kind}:{email}"


@dataclass(frozen=True)
class LaptopIdentityArgs:
    project: str
    """The project of the service account and of its grants (`gcp.project`)."""
    account_id: str
    """The service account's id (the platform's: `mlflow-<stack>`, cut to 30 characters)."""
    credentials_file: str
    """Where the impersonated credential is written on the machine that runs Pulumi, deleted
    by destroy (the platform's: `~/.config/mlflow-platform/<stack>-gcp-auth.json`)."""
    bucket_name: pulumi.Input[str] | None
    """The bucket whose objects the pods may read and write; None: no bucket grant."""
    cloud_sql: bool
    """Whether the pods may connect to Cloud SQL (roles/cloudsql.client, project-wide)."""


class LaptopIdentity(Component):
    """A service account for the pods of a laptop cluster, the developer allowed to act as it,
    and the impersonated credential file the gcp-auth addon mounts."""

    email: pulumi.Output[str]
    """The service account the pods act as."""
    credentials_file: pulumi.Output[str]
    """The impersonated credential file (the addon's GOOGLE_APPLICATION_CREDENTIALS), known
    once it is written."""

    def __init__(
        self, name: str, args: LaptopIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = gcp.serviceaccount.Account(
            name,
            project=args.project,
            account_id=args.account_id,
            display_name="MLflow pods on minikube (gcp-auth)",
            opts=child,
        )
        member = account.email.apply(lambda email: f"serviceAccount:{email}")
        grants: list[pulumi.Resource] = []
        if args.bucket_name is not None:
            bucket_grant = gcp.storage.BucketIAMMember(
                f"{name}-artifacts",
                bucket=args.bucket_name,
                role="roles/storage.objectAdmin",
                member=member,
                opts=child,
            )
            grants.append(bucket_grant)
        if args.cloud_sql:
            sql_grant = gcp.projects.IAMMember(
                f"{name}-cloudsql-client",
                project=args.project,
                role="roles/cloudsql.client",
                member=member,
                opts=child,
            )
            grants.append(sql_grant)
        developer = gcp.organizations.get_client_open_id_user_info_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        )
        may_impersonate = gcp.serviceaccount.IAMMember(
            f"{name}-developer",
            service_account_id=account.name,
            role="roles/iam.serviceAccountTokenCreator",
            member=developer.email.apply(member_of),
            opts=child,
        )
        self.file = command.local.Command(
            f"{name}-credentials",
            create=account.email.apply(lambda email: write_command(email, args.credentials_file)),
            delete=f"rm -f {shlex.quote(args.credentials_file)}",
            dir=str(PROJECT_ROOT),  # where `python -m infra.impersonation` is found
            logging=command.local.Logging.NONE,
            # Written once the account may do its work: whatever starts with the file waits.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[may_impersonate, *grants]),
        )
        self.credentials_file = self.file.id.apply(lambda _: args.credentials_file)
        self.email = account.email
        self.register_declared_outputs()


def write_command(email: str, path: str) -> str:
    """The command that writes the impersonated credential from the developer's own."""
    return " ".join(
        shlex.quote(part) for part in (sys.executable, "-m", "infra.impersonation", email, path)
    )
