"""The guardrails every preview and update runs (CrossGuard), as plain, testable checks.

Each check takes a resource's type, its input properties and whether it is protected, and
returns the violations as messages. `POLICIES` wraps them for the policy pack:

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
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

BUCKET = "gcp:storage/bucket:Bucket"
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
WORKLOADS = {
    DEPLOYMENT: ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
PROD_STACKS = re.compile(r"^prod(uction)?([-_].*)?$")

Props = Mapping[str, Any]
Check = Callable[[str, Props, bool], list[str]]


def _get(props: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props


def _pod_spec(resource_type: str, props: Props) -> Props | None:
    path = WORKLOADS.get(resource_type)
    spec = _get(props, *path) if path else None
    return spec if isinstance(spec, Mapping) else None


def _containers(pod: Props) -> Iterator[tuple[Props, bool]]:
    """Every container with whether it serves traffic (main containers and native sidecars)."""
    for container in pod.get("initContainers") or []:
        yield container, container.get("restartPolicy") == "Always"
    for container in pod.get("containers") or []:
        yield container, True


# --- mandatory everywhere -----------------------------------------------------------------


def bucket_is_private(resource_type: str, props: Props, protected: bool) -> list[str]:
    if resource_type != BUCKET:
        return []
    problems = []
    if props.get("publicAccessPrevention") != "enforced":
        problems.append("bucket must set public_access_prevention='enforced'")
    if props.get("uniformBucketLevelAccess") is not True:
        problems.append("bucket must use uniform bucket-level access")
    return problems


def cloud_sql_is_encrypted_and_closed(
    resource_type: str, props: Props, protected: bool
) -> list[str]:
    if resource_type != SQL_INSTANCE:
        return []
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


def containers_are_bounded_probed_and_unprivileged(
    resource_type: str, props: Props, protected: bool
) -> list[str]:
    pod = _pod_spec(resource_type, props)
    if pod is None:
        return []
    problems = []
    pod_non_root = _get(pod, "securityContext", "runAsNonRoot") is True
    for container, serving in _containers(pod):
        name = container.get("name", "?")
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


def no_secrets_in_config_maps(resource_type: str, props: Props, protected: bool) -> list[str]:
    if resource_type != CONFIG_MAP:
        return []
    problems = []
    for key, value in (props.get("data") or {}).items():
        if _SECRET_KEY.search(str(key)) or _URI_WITH_PASSWORD.search(str(value)):
            problems.append(f"ConfigMap key {key!r} looks like a secret: use a Secret")
    return problems


# --- prod ---------------------------------------------------------------------------------


def database_is_protected(resource_type: str, props: Props, protected: bool) -> list[str]:
    if resource_type != SQL_INSTANCE:
        return []
    problems = []
    if props.get("deletionProtection") is not True or not _get(
        props, "settings", "deletionProtectionEnabled"
    ):
        problems.append("Cloud SQL needs deletion_protection and deletion_protection_enabled")
    if not protected:
        problems.append("Cloud SQL instance must be a protected resource")
    return problems


def bucket_is_protected(resource_type: str, props: Props, protected: bool) -> list[str]:
    if resource_type != BUCKET:
        return []
    problems = []
    if not protected:
        problems.append("bucket must be a protected resource")
    if props.get("forceDestroy"):
        problems.append("bucket must not set force_destroy")
    return problems


def database_is_private(resource_type: str, props: Props, protected: bool) -> list[str]:
    if (
        resource_type == SQL_INSTANCE
        and _get(props, "settings", "ipConfiguration", "ipv4Enabled") is not False
    ):
        return ["Cloud SQL must use a private IP only (ipv4_enabled=false)"]
    return []


def database_is_highly_available(resource_type: str, props: Props, protected: bool) -> list[str]:
    if resource_type == SQL_INSTANCE and _get(props, "settings", "availabilityType") != "REGIONAL":
        return ["Cloud SQL availability_type must be REGIONAL"]
    return []


def database_is_backed_up(resource_type: str, props: Props, protected: bool) -> list[str]:
    if resource_type != SQL_INSTANCE:
        return []
    backups = _get(props, "settings", "backupConfiguration") or {}
    if not (backups.get("enabled") and backups.get("pointInTimeRecoveryEnabled")):
        return ["Cloud SQL needs automated backups and point-in-time recovery"]
    return []


def mlflow_is_replicated(resource_type: str, props: Props, protected: bool) -> list[str]:
    if resource_type != DEPLOYMENT:
        return []
    labels = _get(props, "metadata", "labels") or {}
    replicas = _get(props, "spec", "replicas")
    if labels.get("app.kubernetes.io/name") == "mlflow" and (replicas or 1) < 2:
        return [f"MLflow needs at least 2 replicas (has {replicas or 1})"]
    return []


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check
    prod_only: bool = False


RULES: tuple[Rule, ...] = (
    Rule(
        "bucket-private",
        "GCS buckets enforce public access prevention and uniform access.",
        bucket_is_private,
    ),
    Rule(
        "cloudsql-tls-and-closed",
        "Cloud SQL requires TLS and never admits 0.0.0.0/0.",
        cloud_sql_is_encrypted_and_closed,
    ),
    Rule(
        "containers-hardened",
        "Containers have requests/limits, probes, run as non-root and use pinned images.",
        containers_are_bounded_probed_and_unprivileged,
    ),
    Rule(
        "no-secrets-in-configmaps",
        "ConfigMaps hold no passwords, tokens or credential URIs.",
        no_secrets_in_config_maps,
    ),
    Rule(
        "database-deletion-protection",
        "prod: Cloud SQL is deletion-protected.",
        database_is_protected,
        prod_only=True,
    ),
    Rule(
        "bucket-deletion-protection",
        "prod: the artifact bucket is protected.",
        bucket_is_protected,
        prod_only=True,
    ),
    Rule(
        "database-private-ip",
        "prod: Cloud SQL has no public IP.",
        database_is_private,
        prod_only=True,
    ),
    Rule(
        "database-regional",
        "prod: Cloud SQL is REGIONAL (HA).",
        database_is_highly_available,
        prod_only=True,
    ),
    Rule(
        "database-backups",
        "prod: backups and point-in-time recovery.",
        database_is_backed_up,
        prod_only=True,
    ),
    Rule(
        "mlflow-replicas",
        "prod: at least two MLflow replicas.",
        mlflow_is_replicated,
        prod_only=True,
    ),
)


def stack_of(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::<type>::<name>"""
    return urn.split(":", 2)[2].split("::", 1)[0] if urn.startswith("urn:pulumi:") else ""


def is_prod(urn: str) -> bool:
    return bool(PROD_STACKS.match(stack_of(urn)))


def _validator(
    rule: Rule, prod_stacks: bool | None
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if prod_stacks is not None and is_prod(args.urn) != prod_stacks:
            return
        protected = bool(getattr(args.opts, "protect", False))
        for message in rule.check(args.resource_type, args.props, protected):
            report_violation(message, None)

    return validate


def _policies() -> list[Policy]:
    policies: list[Policy] = []
    for rule in RULES:
        if not rule.prod_only:
            policies.append(
                ResourceValidationPolicy(
                    name=rule.name,
                    description=rule.description,
                    enforcement_level=EnforcementLevel.MANDATORY,
                    validate=_validator(rule, None),
                )
            )
            continue
        policies.append(
            ResourceValidationPolicy(
                name=rule.name,
                description=rule.description,
                enforcement_level=EnforcementLevel.MANDATORY,
                validate=_validator(rule, True),
            )
        )
        policies.append(
            ResourceValidationPolicy(
                name=f"{rule.name}-advisory",
                description=rule.description + " (advisory off prod)",
                enforcement_level=EnforcementLevel.ADVISORY,
                validate=_validator(rule, False),
            )
        )
    return policies


POLICIES = _policies()
