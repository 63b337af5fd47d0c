"""The bootstrap stack's config, checked before anything is registered.

pulumi config set project my-ci-project          # pool, state bucket, KMS keys
pulumi config set location europe-west1          # bucket and key ring location
pulumi config set state_bucket my-mlflow-pulumi-state
pulumi config set --path github.repository OWNER/REPO
pulumi config set --path github.repository_id 123456789
pulumi config set --path github.repository_owner_id 987654
pulumi config set --path stack_projects.dev my-mlflow-dev   # and staging, prod
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.errors import RunError

from bootstrap.identities import stacks

NAMESPACE = "mlflow-platform-bootstrap"
PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$")
REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9_.-]+$")
NUMERIC_ID = re.compile(r"^[0-9]+$")
LOCATION = re.compile(r"^[a-z]+(-[a-z]+[0-9]*)?$")


class BootstrapConfigError(RunError, ValueError):
    """Printed by `pulumi up` as the message alone, one line per key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid bootstrap configuration:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class GitHubRepository:
    repository: str  # OWNER/REPO, as in the token's subject
    repository_id: str  # numeric: survives a rename, never reused
    repository_owner_id: str


@dataclass(frozen=True)
class BootstrapConfig:
    project: str
    location: str
    state_bucket: str
    github: GitHubRepository
    stack_projects: Mapping[str, str]


CHECKS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("project", PROJECT_ID, "a Google Cloud project id (6-30 lowercase letters, digits, -)"),
    ("location", LOCATION, "a Cloud Storage / KMS location, e.g. europe-west1 or eu"),
    ("state_bucket", BUCKET, "a bucket name (3-63 lowercase letters, digits, - _ .)"),
    ("github.repository", REPOSITORY, "OWNER/REPO"),
    ("github.repository_id", NUMERIC_ID, "the repository's numeric id (gh api repos/OWNER/REPO)"),
    ("github.repository_owner_id", NUMERIC_ID, "the owner's numeric id (same call, owner.id)"),
)


def _lookup(raw: Mapping[str, Any], dotted: str) -> Any:
    value: Any = raw
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    # `pulumi config set --path github.repository_id 123` stores a number.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _problems(raw: Mapping[str, Any]) -> list[str]:
    problems = []
    for dotted, pattern, allowed in CHECKS:
        value = _lookup(raw, dotted)
        if not isinstance(value, str) or not pattern.match(value):
            problems.append(f"{NAMESPACE}:{dotted} = {value!r}: {allowed}")
    projects = raw.get("stack_projects")
    projects = projects if isinstance(projects, Mapping) else {}
    for stack in stacks():
        value = projects.get(stack)
        if not isinstance(value, str) or not PROJECT_ID.match(value):
            problems.append(
                f"{NAMESPACE}:stack_projects.{stack} = {value!r}: the project id of the "
                f"{stack} stack (gcp.project in stacks/Pulumi.{stack}.yaml)"
            )
    extra = sorted(set(projects) - set(stacks()))
    if extra:
        problems.append(
            f"{NAMESPACE}:stack_projects = {extra!r}: only {', '.join(stacks())} are known"
        )
    return problems


def parse(raw: Mapping[str, Any]) -> BootstrapConfig:
    problems = _problems(raw)
    if problems:
        raise BootstrapConfigError(problems)
    return BootstrapConfig(
        project=raw["project"],
        location=raw["location"],
        state_bucket=raw["state_bucket"],
        github=GitHubRepository(
            *(
                _lookup(raw, f"github.{k}")
                for k in ("repository", "repository_id", "repository_owner_id")
            )
        ),
        stack_projects={s: raw["stack_projects"][s] for s in stacks()},
    )
