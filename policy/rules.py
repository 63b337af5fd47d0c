"""The guardrails every preview and update runs (CrossGuard), as plain, testable checks.

Each check takes a resource's input properties and whether it is protected, and returns the
violations as messages. `RULES` is the table: each rule names the resource types it reads;
`POLICIES` turns every row into its policies in one loop:

- mandatory everywhere: private buckets, TLS-only Cloud SQL, allowlists narrower than the
  internet (Cloud SQL, GKE, firewalls), containers with requests/limits, probes, non-root and
  pinned images and no host access or added privileges (CronJobs too), no secrets in
  ConfigMaps, no login bypass or snippets on Ingresses, safe ingress controller values, no
  public or primitive IAM, GKE enforcing NetworkPolicies;
- prod only mandatory (advisory on other stacks): deletion protection on database and bucket,
  private IP only, REGIONAL availability, backups + PITR, at least two MLflow replicas, https
  kept and HSTS sent, a closed GKE control plane, MLflow's own protections on;
- advisory everywhere: LoadBalancers without source ranges.

Prod is known by the stack's name (prod, prd, production, live, eu-prod, prod-eu, any case) or
by the `environment` label the platform puts on its GCP resources; prod rules therefore read
the whole stack (policy/environment.py).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
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

from policy import cloud, ingress, workloads
from policy.environment import stack_is_local, stack_is_prod
from policy.exposure import EXPOSURE_TYPES, mlflow_has_a_login, mlflow_is_served_over_https
from policy.networks import too_wide

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
        "kubernetes:batch/v1:CronJob",
        "kubernetes:core/v1:Pod",
    }
)
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
RELEASE = "kubernetes:helm.sh/v3:Release"

Props = Mapping[str, Any]


def _get(props: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props


_pod_spec = workloads.pod_spec


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
    values = [str(n.get("value", "")) for n in ip.get("authorizedNetworks") or []]
    wide = too_wide(values)
    if wide:
        problems.append(f"Cloud SQL authorized networks: {wide}")
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


_SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|private[_-]?key|credential|api[_-]?key|access[_-]?key"
    r"|auth[_-]?key|signing[_-]?key|bearer)",
    re.I,
)
_URI_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
# Well-known key shapes: OpenAI/Anthropic-style, AWS, GitHub, Google API, Slack, PEM keys.
_KEY_VALUE = re.compile(
    r"(\bsk-[A-Za-z0-9_-]{16,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bAIza[0-9A-Za-z_-]{35}|\bxox[abprs]-|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)


def no_secrets_in_config_maps(props: Props, protected: bool) -> list[str]:
    problems = []
    for field in ("data", "binaryData"):
        for key, value in (props.get(field) or {}).items():
            text = _decoded(value) if field == "binaryData" else str(value)
            if (
                _SECRET_KEY.search(str(key))
                or _URI_WITH_PASSWORD.search(text)
                or _KEY_VALUE.search(text)
            ):
                problems.append(f"ConfigMap key {key!r} looks like a secret: use a Secret")
    return problems


def _decoded(value: Any) -> str:
    try:
        return base64.b64decode(str(value)).decode("utf-8", "replace")
    except ValueError:
        return str(value)


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


Applies = Literal["everywhere", "advisory", "prod", "not-local"]


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
        (
            "workloads-no-host-access",
            "Pods (CronJobs and Jobs too) are not privileged, share no host namespace or path, "
            "add no capabilities, cannot escalate privileges and do not run as root.",
            WORKLOADS,
            workloads.workloads_have_no_host_access,
        ),
        (
            "ingress-no-login-bypass",
            "Ingresses carry no configuration snippets and no empty auth-url.",
            _on(INGRESS),
            ingress.ingress_has_no_login_bypass,
        ),
        (
            "ingress-controller-values",
            "Ingress controllers accept no snippets and no Critical-risk annotations.",
            _on(RELEASE),
            ingress.controller_values_are_safe,
        ),
        (
            "gke-authorized-networks-narrow",
            "GKE authorized networks are narrower than the internet (also as a union).",
            _on(cloud.GKE_CLUSTER),
            cloud.gke_authorized_networks_are_narrow,
        ),
        (
            "gke-network-policy-enforced",
            "GKE enforces NetworkPolicies (Autopilot, or Dataplane V2 on Standard).",
            _on(cloud.GKE_CLUSTER),
            cloud.gke_enforces_network_policy,
        ),
        (
            "iam-not-public-or-primitive",
            "No IAM grant to allUsers/allAuthenticatedUsers, no owner or editor role.",
            cloud.IAM_TYPES,
            cloud.iam_is_not_public_or_primitive,
        ),
        (
            "firewall-not-open",
            "Ingress firewall rules admit no source as wide as the internet.",
            _on(cloud.FIREWALL),
            cloud.firewall_is_not_open_to_the_internet,
        ),
        (
            "ingress-https-kept",
            "prod: no Ingress turns the https redirect off.",
            _on(INGRESS),
            ingress.ingress_keeps_https,
            "prod",
        ),
        (
            "ingress-controller-hsts",
            "prod: the ingress controller sends HSTS.",
            _on(RELEASE),
            ingress.controller_sends_hsts,
            "prod",
        ),
        (
            "gke-control-plane-closed",
            "prod: the GKE control plane has authorized networks or a private/DNS endpoint.",
            _on(cloud.GKE_CLUSTER),
            cloud.gke_control_plane_is_closed,
            "prod",
        ),
        (
            "mlflow-security-middleware",
            "prod: MLflow keeps its host and CORS checks (no --disable-security-middleware, "
            "no allowed hosts '*').",
            _on(DEPLOYMENT, CONFIG_MAP),
            ingress.mlflow_keeps_its_protections,
            "prod",
            True,
        ),
        (
            "load-balancer-source-ranges",
            "LoadBalancers (and ingress controller Services) name the sources they admit.",
            _on(SERVICE, RELEASE),
            workloads.load_balancers_have_source_ranges,
            "advisory",
        ),
    )
)


# Each scope: (name suffix, description suffix, level, the stacks it covers) per policy; a
# stack is given as its (urn, inputs) pairs.
Stack = Sequence[tuple[str, Props]]
Variant = tuple[str, str, EnforcementLevel, Callable[[Stack], bool]]
SCOPES: dict[str, tuple[Variant, ...]] = {
    "everywhere": (("", "", EnforcementLevel.MANDATORY, lambda stack: True),),
    "advisory": (("", "", EnforcementLevel.ADVISORY, lambda stack: True),),
    "prod": (
        ("", "", EnforcementLevel.MANDATORY, stack_is_prod),
        (
            "-advisory",
            " (advisory off prod)",
            EnforcementLevel.ADVISORY,
            lambda stack: not stack_is_prod(stack),
        ),
    ),
    "not-local": (
        ("", "", EnforcementLevel.MANDATORY, lambda stack: not stack_is_local(stack)),
        ("-advisory", " (advisory on local)", EnforcementLevel.ADVISORY, stack_is_local),
    ),
}


def is_prod(urn: str) -> bool:
    """By the stack's name alone (tests and callers without the stack's resources)."""
    return stack_is_prod([(urn, {})])


def _resource_validator(
    rule: Rule, covers: Callable[[Stack], bool]
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.resource_types or not covers([(args.urn, args.props)]):
            return
        protected = bool(getattr(args.opts, "protect", False))
        for message in rule.check(args.props, protected):
            report_violation(message, None)

    return validate


def _stack_validator(
    rule: Rule, covers: Callable[[Stack], bool]
) -> Callable[[StackValidationArgs, ReportViolation], None]:
    """Which environment the stack is needs all of it; the rule then reads its resources, one
    by one (reported against each) or together (`stack_wide`)."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        if not args.resources or not covers([(r.urn, r.props) for r in args.resources]):
            return
        resources = [r for r in args.resources if r.resource_type in rule.resource_types]
        if rule.stack_wide:
            if resources:
                for message in rule.check([(r.resource_type, r.props) for r in resources]):
                    report_violation(message, None)
            return
        for r in resources:
            protected = bool(getattr(r.opts, "protect", False))
            for message in rule.check(r.props, protected):
                report_violation(message, r.urn)

    return validate


def _policy(rule: Rule, variant: Variant) -> Policy:
    name_suffix, description_suffix, level, covers = variant
    if rule.stack_wide or rule.applies in ("prod", "not-local"):
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
