"""Guardrails for the CI trust chain (bootstrap/), in the table form of policy/rules.py.

- a GitHub workload identity provider pins the repository and its owner by id;
- a workload identity is admitted as one GitHub environment's subject, never a whole pool or
  attribute set (principalSet://), never a branch or pull request subject;
- nobody is granted the basic roles owner or editor on a project;
- a Cloud KMS key (a stack's secrets provider) is protected: deleting it loses every secret.
"""

from __future__ import annotations

from pulumi_policy import Policy

from policy.rules import SCOPES, Props, Rule, _policy

PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
ACCOUNT_BINDINGS = frozenset(
    {
        "gcp:serviceaccount/iAMMember:IAMMember",
        "gcp:serviceaccount/iAMBinding:IAMBinding",
    }
)
PROJECT_GRANTS = frozenset(
    {"gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding"}
)
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
BASIC_ROLES = ("roles/owner", "roles/editor")


def provider_pins_the_repository(props: Props, protected: bool) -> list[str]:
    issuer = (props.get("oidc") or {}).get("issuerUri")
    if issuer != GITHUB_ISSUER:
        return []
    condition = props.get("attributeCondition") or ""
    missing = [
        claim
        for claim in ("assertion.repository_id ==", "assertion.repository_owner_id ==")
        if claim not in condition
    ]
    if missing:
        return [
            "a GitHub workload identity provider must pin the repository and its owner by id "
            f"in attributeCondition (missing: {', '.join(missing)})"
        ]
    return []


def _members(props: Props) -> list[str]:
    members = list(props.get("members") or [])
    return [*members, props["member"]] if props.get("member") else members


def identity_is_one_environment(props: Props, protected: bool) -> list[str]:
    if props.get("role") != "roles/iam.workloadIdentityUser":
        return []
    problems = []
    for member in _members(props):
        if member.startswith("principalSet://"):
            problems.append(f"{member}: admit one GitHub environment's subject, not a set")
        elif member.startswith("principal://") and ":environment:" not in member:
            problems.append(f"{member}: the subject must name a GitHub environment")
    return problems


def no_basic_roles(props: Props, protected: bool) -> list[str]:
    role = props.get("role")
    if role in BASIC_ROLES:
        return [f"{role} is granted: grant the predefined roles the identity needs instead"]
    return []


def key_is_protected(props: Props, protected: bool) -> list[str]:
    return [] if protected else ["a KMS key encrypts a stack's secrets: protect it"]


BOOTSTRAP_RULES: tuple[Rule, ...] = (
    Rule(
        "ci-provider-pins-repository",
        "A GitHub workload identity provider accepts this repository only (ids).",
        frozenset({PROVIDER}),
        provider_pins_the_repository,
    ),
    Rule(
        "ci-identity-one-environment",
        "A workload identity is one GitHub environment's subject.",
        ACCOUNT_BINDINGS,
        identity_is_one_environment,
    ),
    Rule(
        "no-basic-roles",
        "Nobody is granted roles/owner or roles/editor.",
        PROJECT_GRANTS,
        no_basic_roles,
    ),
    Rule(
        "kms-key-protected",
        "Cloud KMS keys (stack secrets providers) are protected.",
        frozenset({CRYPTO_KEY}),
        key_is_protected,
    ),
)

BOOTSTRAP_POLICIES: list[Policy] = [
    _policy(rule, variant) for rule in BOOTSTRAP_RULES for variant in SCOPES[rule.applies]
]
