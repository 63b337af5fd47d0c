"""Who the CI may act as, and with what: plain data and strings, testable without Pulumi.

One Google service account per purpose and stack, each admitted only from its own GitHub
environment (the token's subject `repo:OWNER/REPO:environment:NAME`):

- preview-<stack> for dev, staging, prod (pull requests): reads, never changes;
- deploy-<stack> for the stacks deploy.yml updates (staging, prod);
- destroy-<stack> for the disposable stacks destroy.yml offers (dev, staging), which
  infra/guard.py lets go because nothing in them is protected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Purpose = Literal["preview", "deploy", "destroy"]

PREVIEW_STACKS = ("dev", "staging", "prod")  # preview.yml's full list
DEPLOY_STACKS = ("staging", "prod")  # deploy.yml's stack choices
DISPOSABLE_STACKS = ("dev", "staging")  # destroy.yml's stack choices (never prod)
# Environments whose tokens Google accepts only from a protected main or v* ref.
RELEASE_ENVIRONMENTS = ("prod",)
KEY_RING = "pulumi"
PULUMI_PROJECT = "mlflow-platform"

# Read-only, on the stack's project. container.viewer: reach the cluster and read its objects
# (the Kubernetes provider diffs against them); the server-side dry run that previews need is
# granted inside the cluster, admitted only as a dry run (docs/delivery.md).
PREVIEW_ROLES = ("roles/container.viewer",)

# What `pulumi up` of the platform creates, on the stack's project, one role per kind.
DEPLOY_ROLES = (
    "roles/compute.networkAdmin",  # VPC, subnet, router + NAT, addresses, the PSA range
    "roles/compute.securityAdmin",  # the firewall rule for the admission webhook
    "roles/container.admin",  # GKE cluster, node pool, and every Kubernetes object in it
    "roles/cloudsql.admin",  # instance, database, user, the pre-upgrade backup
    "roles/storage.admin",  # the artifact bucket (the state bucket lives in the CI project)
    "roles/iam.serviceAccountAdmin",  # MLflow's and the nodes' service accounts + bindings
    "roles/iam.serviceAccountUser",  # the node pool runs as the nodes' service account
    "roles/serviceusage.serviceUsageAdmin",  # enable the APIs the platform needs
    "roles/servicenetworking.networksAdmin",  # the private services access peering
)
# Project IAM grants the platform makes, and the only ones a deploy identity may make.
GRANTABLE_ROLES = (
    "roles/cloudsql.client",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)
PROJECT_IAM_ADMIN = "roles/resourcemanager.projectIamAdmin"

# Destroy deletes what deploy created, so it needs the same kinds of access, on disposable
# stacks only; it is a separate identity so that a deploy environment cannot destroy.
DESTROY_ROLES = DEPLOY_ROLES


@dataclass(frozen=True)
class CiIdentity:
    purpose: Purpose
    stack: str

    @property
    def environment(self) -> str:
        """The GitHub environment whose jobs may act as this identity."""
        return self.stack if self.purpose == "deploy" else f"{self.purpose}-{self.stack}"

    @property
    def account_id(self) -> str:
        return f"ci-{self.purpose}-{self.stack}"[:30]

    @property
    def roles(self) -> tuple[str, ...]:
        return {"preview": PREVIEW_ROLES, "deploy": DEPLOY_ROLES, "destroy": DESTROY_ROLES}[
            self.purpose
        ]

    @property
    def grants_project_iam(self) -> bool:
        return self.purpose != "preview"

    @property
    def writes_state(self) -> bool:
        return self.purpose != "preview"

    @property
    def kms_role(self) -> str:
        """Preview decrypts the stack's secrets to evaluate it; deploy and destroy also encrypt."""
        if self.purpose == "preview":
            return "roles/cloudkms.cryptoKeyDecrypter"
        return "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def ci_identities() -> list[CiIdentity]:
    return [
        *(CiIdentity("preview", s) for s in PREVIEW_STACKS),
        *(CiIdentity("deploy", s) for s in DEPLOY_STACKS),
        *(CiIdentity("destroy", s) for s in DISPOSABLE_STACKS),
    ]


def stacks() -> list[str]:
    """Every stack the CI touches, each with its own KMS key."""
    return sorted({i.stack for i in ci_identities()}, key=PREVIEW_STACKS.index)


def github_subject(repository: str, environment: str) -> str:
    return f"repo:{repository}:environment:{environment}"


def principal(pool_name: str, subject: str) -> str:
    """The one workload identity: `pool_name` is projects/NUMBER/locations/global/..."""
    return f"principal://iam.googleapis.com/{pool_name}/subject/{subject}"


def attribute_condition(repository_id: str, owner_id: str) -> str:
    """Tokens Google accepts at all: this repository (by id, which survives a rename and is not
    reused), and a release environment only from a protected main or v* ref."""
    release = " || ".join(f'assertion.environment == "{e}"' for e in RELEASE_ENVIRONMENTS)
    return (
        f'assertion.repository_id == "{repository_id}"'
        f' && assertion.repository_owner_id == "{owner_id}"'
        f' && (!({release}) || (assertion.ref_protected == "true"'
        ' && (assertion.ref == "refs/heads/main" || assertion.ref.startsWith("refs/tags/v"))))'
    )


ATTRIBUTE_MAPPING = {
    "google.subject": "assertion.sub",
    "attribute.repository_id": "assertion.repository_id",
    "attribute.repository_owner_id": "assertion.repository_owner_id",
    "attribute.environment": "assertion.environment",
    "attribute.ref": "assertion.ref",
}


def state_condition(bucket: str, stack: str) -> str:
    """The state objects of one stack (the DIY backend's layout), plus the bucket itself so the
    backend can list; objects of other stacks stay out of reach."""
    objects = f"projects/_/buckets/{bucket}/objects/.pulumi"
    prefixes = [
        f"{objects}/meta.yaml",
        f"{objects}/stacks/{PULUMI_PROJECT}/{stack}.json",
        *(
            f"{objects}/{kind}/{PULUMI_PROJECT}/{stack}/"
            for kind in ("history", "backups", "locks")
        ),
    ]
    starts = " || ".join(f'resource.name.startsWith("{p}")' for p in prefixes)
    return f'resource.type == "storage.googleapis.com/Bucket" || {starts}'


def grant_limit_condition() -> str:
    """projectIamAdmin that can only add or remove the roles the platform grants."""
    roles = ", ".join(f"'{r}'" for r in GRANTABLE_ROLES)
    return f"api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([{roles}])"


def secrets_provider(project: str, location: str, stack: str) -> str:
    return (
        f"gcpkms://projects/{project}/locations/{location}/keyRings/{KEY_RING}/cryptoKeys/{stack}"
    )
