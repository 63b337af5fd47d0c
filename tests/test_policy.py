"""Each guardrail, called directly on resources captured from the four stacks under mocks."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, TypedDict, Unpack

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.environment import stack_of
from policy.rules import POLICIES, RULES, is_prod
from tests.harness import STACKS, Capture, Registration, run_stack, stack_config, with_overrides

BY_NAME = {p.name: p for p in POLICIES}


def _args(
    reg: Registration,
    props: dict[str, Any] | None = None,
    protect: bool | None = None,
    urn: str | None = None,
) -> ResourceValidationArgs:
    opts = PolicyResourceOptions(
        protect=reg.protect if protect is None else protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=reg.parent,
    )
    return ResourceValidationArgs(
        reg.type, reg.inputs if props is None else props, urn or reg.urn, reg.name, opts, None
    )


class _ArgsOverrides(TypedDict, total=False):
    """What violations() may override in a resource's validation arguments (see _args)."""

    props: dict[str, Any] | None
    protect: bool | None
    urn: str | None


def _reporter(found: list[str]) -> ReportViolation:
    """A policy's report_violation that keeps each message in `found`."""

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    return report


def violations(policy_name: str, reg: Registration, **kw: Unpack[_ArgsOverrides]) -> list[str]:
    """One resource through a policy: alone, as a stack of one for the rules that read the
    stack to know its environment (prod)."""
    found: list[str] = []
    policy = BY_NAME[policy_name]
    args = _args(reg, **kw)
    if isinstance(policy, StackValidationPolicy):
        resource = PolicyResource(
            args.resource_type, args.props, args.urn, args.name, args.opts, None, None, [], {}
        )
        policy.validate(StackValidationArgs([resource]), _reporter(found))
        return found
    assert isinstance(policy, ResourceValidationPolicy)
    policy.validate(args, _reporter(found))
    return found


def stack_violations(policy_name: str, regs: list[Registration]) -> list[str]:
    """A stack-wide policy over the stack's resources (as `pulumi preview` hands them over)."""
    resources = [
        PolicyResource(r.type, r.inputs, r.urn, r.name, _args(r).opts, None, None, [], {})
        for r in regs
        if r.custom
    ]
    found: list[str] = []
    policy = BY_NAME[policy_name]
    assert isinstance(policy, StackValidationPolicy)
    policy.validate(StackValidationArgs(resources), _reporter(found))
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_pass_every_policy(stacks: dict[str, Capture], stack: str) -> None:
    report = []
    mandatory = [p for p in POLICIES if p.enforcement_level == EnforcementLevel.MANDATORY]
    for reg in stacks[stack].registrations:
        if not reg.custom:
            continue
        for policy in mandatory:
            if isinstance(policy, ResourceValidationPolicy):
                report += [f"{policy.name}: {reg.urn}: {m}" for m in violations(policy.name, reg)]
    for policy in mandatory:
        if isinstance(policy, StackValidationPolicy):
            found = stack_violations(policy.name, stacks[stack].registrations)
            report += [f"{policy.name}: {m}" for m in found]
    assert report == [], "\n".join(report)


def test_prod_rules_are_mandatory_on_prod_and_advisory_elsewhere(
    stacks: dict[str, Capture],
) -> None:
    for rule in RULES:
        advisory = rule.applies == "advisory"
        level = EnforcementLevel.ADVISORY if advisory else EnforcementLevel.MANDATORY
        assert BY_NAME[rule.name].enforcement_level == level
        if rule.prod_only:
            assert BY_NAME[f"{rule.name}-advisory"].enforcement_level == EnforcementLevel.ADVISORY
    dev_sql = stacks["dev"].one("gcp:sql/databaseInstance:DatabaseInstance")
    assert stack_of(dev_sql.urn) == "dev" and not is_prod(dev_sql.urn)
    assert violations("database-private-ip", dev_sql) == []  # mandatory: prod only
    assert violations("database-private-ip-advisory", dev_sql) == [
        "Cloud SQL must use a private IP only (ipv4_enabled=false)"
    ]


def _broken(reg: Registration, *path: str, value: object) -> dict[str, Any]:
    props = copy.deepcopy(reg.inputs)
    node = props
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return props


BROKEN = [
    (
        "bucket-private",
        "gcp:storage/bucket:Bucket",
        ("publicAccessPrevention",),
        "inherited",
        "public_access_prevention='enforced'",
    ),
    (
        "bucket-private",
        "gcp:storage/bucket:Bucket",
        ("uniformBucketLevelAccess",),
        False,
        "uniform bucket-level access",
    ),
    (
        "cloudsql-tls-and-closed",
        "gcp:sql/databaseInstance:DatabaseInstance",
        ("settings", "ipConfiguration", "sslMode"),
        "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
        "require TLS",
    ),
    (
        "cloudsql-tls-and-closed",
        "gcp:sql/databaseInstance:DatabaseInstance",
        ("settings", "ipConfiguration", "authorizedNetworks"),
        [{"name": "all", "value": "0.0.0.0/0"}],
        "0.0.0.0/0 opens 100.0% of the internet",
    ),
    (
        "database-deletion-protection",
        "gcp:sql/databaseInstance:DatabaseInstance",
        ("deletionProtection",),
        False,
        "deletion_protection",
    ),
    (
        "database-private-ip",
        "gcp:sql/databaseInstance:DatabaseInstance",
        ("settings", "ipConfiguration", "ipv4Enabled"),
        True,
        "private IP only",
    ),
    (
        "database-regional",
        "gcp:sql/databaseInstance:DatabaseInstance",
        ("settings", "availabilityType"),
        "ZONAL",
        "REGIONAL",
    ),
    (
        "database-backups",
        "gcp:sql/databaseInstance:DatabaseInstance",
        ("settings", "backupConfiguration", "pointInTimeRecoveryEnabled"),
        False,
        "point-in-time recovery",
    ),
    (
        "bucket-deletion-protection",
        "gcp:storage/bucket:Bucket",
        ("forceDestroy",),
        True,
        "must not set force_destroy",
    ),
    (
        "mlflow-replicas",
        "kubernetes:apps/v1:Deployment",
        ("spec", "replicas"),
        1,
        "at least 2 replicas (has 1)",
    ),
]


@pytest.mark.parametrize(
    ("policy", "type_", "path", "value", "message"),
    BROKEN,
    ids=[f"{b[0]}-{b[2][-1]}" for b in BROKEN],
)
def test_broken_prod_resource_is_reported(
    stacks: dict[str, Capture],
    policy: str,
    type_: str,
    path: tuple[str, ...],
    value: object,
    message: str,
) -> None:
    reg = stacks["prod"].one(type_)
    assert violations(policy, reg) == []
    found = violations(policy, reg, props=_broken(reg, *path, value=value))
    assert any(message in m for m in found), found


def test_unprotected_prod_bucket_is_reported(stacks: dict[str, Capture]) -> None:
    bucket = stacks["prod"].one("gcp:storage/bucket:Bucket")
    assert violations("bucket-deletion-protection", bucket, protect=False) == [
        "bucket must be a protected resource"
    ]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("image",), "ghcr.io/mlflow/mlflow:latest", "uses :latest"),
        (("image",), "ghcr.io/mlflow/mlflow", "has no tag"),
        (("resources",), {}, "requests and a memory limit"),
        (("livenessProbe",), None, "needs a liveness probe"),
        (("securityContext", "runAsNonRoot"), False, "must run as non-root"),
    ],
)
def test_broken_container_is_reported(
    stacks: dict[str, Capture], path: tuple[str, ...], value: object, message: str
) -> None:
    deployment = stacks["local"].one("kubernetes:apps/v1:Deployment")
    props = copy.deepcopy(deployment.inputs)
    pod = props["spec"]["template"]["spec"]
    if path == ("securityContext", "runAsNonRoot"):
        pod["securityContext"]["runAsNonRoot"] = False
    container = pod["containers"][0]
    node = container
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    found = violations("containers-hardened", deployment, props=props)
    assert any(message in m for m in found), found


def test_secret_in_config_map_is_reported(stacks: dict[str, Capture]) -> None:
    config_map = stacks["dev"].one("kubernetes:core/v1:ConfigMap")
    props = copy.deepcopy(config_map.inputs)
    props["data"]["DB_PASSWORD"] = "hunter2"
    props["data"]["BACKEND"] = "postgresql+psycopg2://mlflow:hunter2@10.0.0.3:5432/mlflow"
    found = violations("no-secrets-in-configmaps", config_map, props=props)
    assert found == [
        "ConfigMap key 'DB_PASSWORD' looks like a secret: use a Secret",
        "ConfigMap key 'BACKEND' looks like a secret: use a Secret",
    ]


def _local_without_login() -> list[Registration]:
    """The local stack with auth off: what other stacks would render if the schema let them."""
    return run_stack(
        "local", with_overrides(stack_config("local"), auth__enabled=False)
    ).registrations


def _as_stack(regs: list[Registration], stack: str) -> list[Registration]:
    return [
        dataclasses.replace(r, urn=r.urn.replace("urn:pulumi:local::", f"urn:pulumi:{stack}::"))
        for r in regs
    ]


def test_mlflow_without_a_login_is_refused_on_every_stack_but_local(
    stacks: dict[str, Capture],
) -> None:
    for stack in STACKS:
        assert stack_violations("mlflow-login", stacks[stack].registrations) == []
    open_local = _local_without_login()
    assert stack_violations("mlflow-login", open_local) == []  # local may go without
    assert stack_violations("mlflow-login-advisory", open_local)  # ... with a warning
    for stack in ("dev", "staging", "prod", "prod-eu"):
        found = stack_violations("mlflow-login", _as_stack(open_local, stack))
        assert found and "without a login" in found[0], stack


def test_prod_mlflow_without_https_is_refused() -> None:
    plain = run_stack("local", with_overrides(stack_config("local"), tls__issuer="none"))
    as_prod = _as_stack(plain.registrations, "prod")
    found = stack_violations("mlflow-https", as_prod)
    assert found and "has no TLS" in found[0]
    assert stack_violations("mlflow-https-advisory", plain.registrations)
    assert stack_violations("mlflow-https", plain.registrations) == []  # not prod: advisory
