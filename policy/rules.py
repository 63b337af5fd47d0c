"""The guardrails every preview and update runs (CrossGuard), as plain, testable checks.

Each check takes a resource's input properties and whether it is protected, and returns the
violations as messages. `RULES` is the table: each rule names the resource types it reads;
`POLICIES` turns every row into its policies in one loop:

- mandatory everywhere: private buckets, TLS-only Cloud SQL without 0.0.0.0/0, containers
  with requests/limits, probes, non-root and pinned images, no secrets in ConfigMaps;
- prod only mandatory (advisory on other stacks): deletion protection on database and bucket,
  private IP only, REGIONAL availability, backups + PITR, at least two MLflow replicas.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.exposure import EXPOSURE_TYPES, mlflow_has_a_login, mlflow_is_served_over_https

BUCKET = "gcp:storage/bucket:Bucket"
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
WORKLOADS = frozenset(
    {
        DEPLOYMENT,
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:apps/v1:DaemonSet",
        "kubernetes:batch/v1:Job",
        "kubernetes:core/v1:Pod",
    }
)
PROD_STACKS = re.compile(r"^prod(uction)?([-_].*)?$")

Props = Mapping[str, Any]


def _get(props: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props


def _pod_spec(props: Props) -> Props | None:
    """A workload's pod template spec, or a Pod's own spec."""
    spec = _get(props, "spec", "template", "spec") or _get(props, "spec")
    return spec if isinstance(spec, Mapping) else None


def _containers(pod: Props) -> Iterator[tuple[Props, bool]]:
    """Every container with whether it serves traffic (native sidecars, and the main containers
    of a pod that is not run to completion, as a Job's is)."""
    for container in pod.get("initContainers") or []:
        yield container, container.get("restartPolicy") == "Always"
    runs_to_completion = pod.get("restartPolicy") in ("Never", "OnFailure")
    for container in pod.get("containers") or []:
        yield container, not runs_to_completion


# --- mandatory everywhere -----------------------------------------------------------------


def bucket_is_private(props: Props, protected: bool) -> list[str]:
    problems = []
    if props.get("publicAccessPrevention") != "enforced":
        problems.append("bucket must set public_access_prevention='enforced'")
    if props.get("uniformBucketLevelAccess") is not True:
        problems.append("bucket must use uniform bucket-level access")
    return problems


def cloud_sql_is_encrypted_and_closed(props: Props, protected: bool) -> list[str]:
    ip = _get(props, "settings", "ipConfiguration") or {}
    problems = []
    if ip.get("sslMode") not in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"):
        problems.append(f"Cloud SQL must require TLS (ssl_mode is {ip.get('sslMode')!r})")
    for network in ip.get("authorizedNetworks") or []:
        value = str(network.get("value", ""))
        try:
            open_to_all = ipaddress.ip_network(value, strict=False).prefixlen == 0
        except ValueError:
            open_to_all = False
        if open_to_all:
            problems.append(
                f"Cloud SQL authorized network {network.get('name')!r} is {value}: "
                "the whole internet"
            )
    return problems


def containers_are_bounded_probed_and_unprivileged(props: Props, protected: bool) -> list[str]:
    pod = _pod_spec(props)
    if pod is None:
        return []
    pod_non_root = _get(pod, "securityContext", "runAsNonRoot") is True
    return [
        problem
        for container, serving in _containers(pod)
        for problem in _container_problems(container, serving, pod_non_root)
    ]


def _container_problems(container: Props, serving: bool, pod_non_root: bool) -> list[str]:
    name = container.get("name", "?")
    problems = []
    requests = _get(container, "resources", "requests") or {}
    limits = _get(container, "resources", "limits") or {}
    if not {"cpu", "memory"} <= set(requests) or "memory" not in limits:
        problems.append(f"container {name!r} needs cpu/memory requests and a memory limit")
    if serving and not (container.get("readinessProbe") or container.get("startupProbe")):
        problems.append(f"container {name!r} needs a readiness or startup probe")
    if serving and not container.get("livenessProbe"):
        problems.append(f"container {name!r} needs a liveness probe")
    if not (pod_non_root or _get(container, "securityContext", "runAsNonRoot") is True):
        problems.append(f"container {name!r} must run as non-root")
    problems.extend(_image_problems(name, str(container.get("image", ""))))
    return problems


def _image_problems(container: str, image: str) -> list[str]:
    if "@sha256:" in image:
        return []
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return [f"container {container!r} image {image!r} has no tag"]
    if last.endswith(":latest"):
        return [f"container {container!r} image {image!r} uses :latest"]
    return []


_SECRET_KEY = re.compile(r"(password|passwd|secret|token|private[_-]?key|credential)", re.I)
_URI_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def no_secrets_in_config_maps(props: Props, protected: bool) -> list[str]:
    problems = []
    for key, value in (props.get("data") or {}).items():
        if _SECRET_KEY.search(str(key)) or _URI_WITH_PASSWORD.search(str(value)):
            problems.append(f"ConfigMap key {key!r} looks like a secret: use a Secret")
    return problems


# --- prod ---------------------------------------------------------------------------------


def database_is_protected(props: Props, protected: bool) -> list[str]:
    problems = []
    if props.get("deletionProtection") is not True or not _get(
        props, "settings", "deletionProtectionEnabled"
    ):
        problems.append("Cloud SQL needs deletion_protection and deletion_protection_enabled")
    if not protected:
        problems.append("Cloud SQL instance must be a protected resource")
    return problems


def bucket_is_protected(props: Props, protected: bool) -> list[str]:
    problems = []
    if not protected:
        problems.append("bucket must be a protected resource")
    if props.get("forceDestroy"):
        problems.append("bucket must not set force_destroy")
    return problems


def database_is_private(props: Props, protected: bool) -> list[str]:
    if _get(props, "settings", "ipConfiguration", "ipv4Enabled") is not False:
        return ["Cloud SQL must use a private IP only (ipv4_enabled=false)"]
    return []


def database_is_highly_available(props: Props, protected: bool) -> list[str]:
    if _get(props, "settings", "availabilityType") != "REGIONAL":
        return ["Cloud SQL availability_type must be REGIONAL"]
    return []


def database_is_backed_up(props: Props, protected: bool) -> list[str]:
    backups = _get(props, "settings", "backupConfiguration") or {}
    if not (backups.get("enabled") and backups.get("pointInTimeRecoveryEnabled")):
        return ["Cloud SQL needs automated backups and point-in-time recovery"]
    return []


def mlflow_is_replicated(props: Props, protected: bool) -> list[str]:
    labels = _get(props, "metadata", "labels") or {}
    replicas = _get(props, "spec", "replicas")
    if labels.get("app.kubernetes.io/name") == "mlflow" and (replicas or 1) < 2:
        return [f"MLflow needs at least 2 replicas (has {replicas or 1})"]
    return []


Applies = Literal["everywhere", "prod", "not-local"]


@dataclass(frozen=True)
class Rule:
    """`check` takes one resource's (inputs, protected), or with `stack_wide` the stack's
    resources of `resource_types` as (type, inputs) pairs. Outside `applies` it is advisory."""

    name: str
    description: str
    resource_types: frozenset[str]
    check: Callable[..., list[str]]
    applies: Applies = "everywhere"
    stack_wide: bool = False

    @property
    def prod_only(self) -> bool:
        return self.applies == "prod"


def _on(*types: str) -> frozenset[str]:
    return frozenset(types)


# name, what it guarantees, the resource types it reads, the check, prod only.
RULES: tuple[Rule, ...] = tuple(
    Rule(*row)
    for row in (
        (
            "bucket-private",
            "GCS buckets enforce public access prevention and uniform access.",
            _on(BUCKET),
            bucket_is_private,
        ),
        (
            "cloudsql-tls-and-closed",
            "Cloud SQL requires TLS and never admits 0.0.0.0/0.",
            _on(SQL_INSTANCE),
            cloud_sql_is_encrypted_and_closed,
        ),
        (
            "containers-hardened",
            "Containers have requests/limits, probes, run as non-root and use pinned images.",
            WORKLOADS,
            containers_are_bounded_probed_and_unprivileged,
        ),
        (
            "no-secrets-in-configmaps",
            "ConfigMaps hold no passwords, tokens or credential URIs.",
            _on(CONFIG_MAP),
            no_secrets_in_config_maps,
        ),
        (
            "database-deletion-protection",
            "prod: Cloud SQL is deletion-protected.",
            _on(SQL_INSTANCE),
            database_is_protected,
            "prod",
        ),
        (
            "bucket-deletion-protection",
            "prod: the artifact bucket is protected.",
            _on(BUCKET),
            bucket_is_protected,
            "prod",
        ),
        (
            "database-private-ip",
            "prod: Cloud SQL has no public IP.",
            _on(SQL_INSTANCE),
            database_is_private,
            "prod",
        ),
        (
            "database-regional",
            "prod: Cloud SQL is REGIONAL (HA).",
            _on(SQL_INSTANCE),
            database_is_highly_available,
            "prod",
        ),
        (
            "database-backups",
            "prod: backups and point-in-time recovery.",
            _on(SQL_INSTANCE),
            database_is_backed_up,
            "prod",
        ),
        (
            "mlflow-replicas",
            "prod: at least two MLflow replicas.",
            _on(DEPLOYMENT),
            mlflow_is_replicated,
            "prod",
        ),
        (
            "mlflow-login",
            "MLflow has a login (basic auth or a sign-in); only local stacks may go without.",
            EXPOSURE_TYPES,
            mlflow_has_a_login,
            "not-local",
            True,
        ),
        (
            "mlflow-https",
            "prod: MLflow's Ingress serves https.",
            EXPOSURE_TYPES,
            mlflow_is_served_over_https,
            "prod",
            True,
        ),
    )
)


def stack_of(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::<type>::<name>"""
    return urn.split(":", 2)[2].split("::", 1)[0] if urn.startswith("urn:pulumi:") else ""


def is_prod(urn: str) -> bool:
    return bool(PROD_STACKS.match(stack_of(urn)))


LOCAL_STACKS = re.compile(r"^local([-_].*)?$")


def is_local(urn: str) -> bool:
    return bool(LOCAL_STACKS.match(stack_of(urn)))


# Each scope: (name suffix, description suffix, level, the stacks it covers) per policy.
Variant = tuple[str, str, EnforcementLevel, Callable[[str], bool]]
SCOPES: dict[str, tuple[Variant, ...]] = {
    "everywhere": (("", "", EnforcementLevel.MANDATORY, lambda urn: True),),
    "prod": (
        ("", "", EnforcementLevel.MANDATORY, is_prod),
        ("-advisory", " (advisory off prod)", EnforcementLevel.ADVISORY, lambda u: not is_prod(u)),
    ),
    "not-local": (
        ("", "", EnforcementLevel.MANDATORY, lambda u: not is_local(u)),
        ("-advisory", " (advisory on local)", EnforcementLevel.ADVISORY, is_local),
    ),
}


def _resource_validator(
    rule: Rule, covers: Callable[[str], bool]
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.resource_types or not covers(args.urn):
            return
        protected = bool(getattr(args.opts, "protect", False))
        for message in rule.check(args.props, protected):
            report_violation(message, None)

    return validate


def _stack_validator(
    rule: Rule, covers: Callable[[str], bool]
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [r for r in args.resources if r.resource_type in rule.resource_types]
        if not resources or not covers(resources[0].urn):
            return
        for message in rule.check([(r.resource_type, r.props) for r in resources]):
            report_violation(message, None)

    return validate


def _policy(rule: Rule, variant: Variant) -> Policy:
    name_suffix, description_suffix, level, covers = variant
    if rule.stack_wide:
        return StackValidationPolicy(
            name=rule.name + name_suffix,
            description=rule.description + description_suffix,
            enforcement_level=level,
            validate=_stack_validator(rule, covers),
        )
    return ResourceValidationPolicy(
        name=rule.name + name_suffix,
        description=rule.description + description_suffix,
        enforcement_level=level,
        validate=_resource_validator(rule, covers),
    )


POLICIES: list[Policy] = [
    _policy(rule, variant) for rule in RULES for variant in SCOPES[rule.applies]
]
