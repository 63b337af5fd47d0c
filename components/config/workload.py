"""What runs in the cluster: the ingress controller and the MLflow tracking server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from components import versions
from components.config.controllers import CONTROLLER_CHARTS, OWNED_HELM_VALUES, ControllerKind
from components.config.metrics import LOG_LEVELS, LogLevel
from components.config.passthrough import (
    JOB_EXECUTION_MEMORY,
    OWNED_SERVER_ARGS,
    env_problems,
)
from components.config.quantities import parse_quantity
from components.config.section import EnvDefaults, Problem, Section
from components.config.values import (
    Cidr,
    Count,
    CpuQuantity,
    CronSchedule,
    DnsLabel,
    DnsSubdomain,
    Flag,
    GcAge,
    Hostname,
    MemoryQuantity,
    NginxSize,
    NonBlank,
    PinnedImage,
    Version,
)


def _lookup(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _pins(attribute: str) -> str:
    return ", ".join(f"{c} {getattr(pin, attribute)}" for c, pin in CONTROLLER_CHARTS.items())


class HelmChartConfig(Section):
    """Left out, each of repository, name and version is the chosen controller's pin."""

    repository: str | None = Field(
        None, description=f"Chart repository (default: the controller's: {_pins('repository')})."
    )
    name: str | None = Field(None, description=f"Chart name (default: {_pins('name')}).")
    version: NonBlank | None = Field(
        None, description=f"Chart version (default, pinned: {_pins('version')})."
    )
    path: NonBlank | None = Field(
        None, description="Local chart directory or .tgz (air-gapped installs)."
    )

    def problems(self) -> list[Problem]:
        if self.path is not None and not Path(self.path).expanduser().exists():
            return [
                Problem(
                    "path",
                    self.path,
                    "no such file or directory; allowed: a local chart directory or .tgz",
                )
            ]
        return []


class IngressConfig(Section):
    enabled: Flag = Field(True, description="Install the ingress controller.")
    controller: ControllerKind = Field(
        "ingress-nginx",
        description="ingress-nginx (retired upstream in March 2026) or f5-nginx (F5 NGINX "
        "Ingress Controller, maintained).",
    )
    namespace: DnsLabel = Field("ingress-nginx", description="Controller namespace.")
    chart: HelmChartConfig = Field(
        default_factory=dict, validate_default=True, description="Chart source."
    )
    service_type: Literal["NodePort", "LoadBalancer"] | None = Field(
        None,
        description="Controller Service type (default: NodePort on minikube, else LoadBalancer).",
    )
    http_node_port: Count = Field(30080, ge=30000, le=32767, description="HTTP NodePort.")
    https_node_port: Count = Field(30443, ge=30000, le=32767, description="HTTPS NodePort.")
    proxy_body_size: NginxSize = Field(
        "5g", description="Largest artifact upload through the ingress."
    )
    replicas: Count = Field(1, ge=1, le=10, description="Controller replicas.")
    allowed_source_ranges: list[Cidr] = Field(
        default_factory=list,
        description="LoadBalancer: only these client ranges reach it (empty: everyone).",
    )
    values: dict[str, Any] = Field(
        default_factory=dict, description="Extra Helm values merged over ours."
    )

    env_defaults: ClassVar[EnvDefaults] = {"replicas": {"prod": 2}}

    def problems(self) -> list[Problem]:
        return [
            Problem(
                "values." + ".".join(path),
                value,
                f"is set by {owner}; allowed: set that key instead",
            )
            for path, owner in OWNED_HELM_VALUES[self.controller].items()
            if (value := _lookup(self.values, path)) is not None
        ]


class ResourcesConfig(Section):
    cpu_request: CpuQuantity = Field("250m", description="CPU request.")
    memory_request: MemoryQuantity = Field("1Gi", description="Memory request.")
    cpu_limit: CpuQuantity = Field("1", description="CPU limit.")
    memory_limit: MemoryQuantity = Field("1536Mi", description="Memory limit.")

    # The request covers the server's measured peak (make bench-serve, README "Performance":
    # about 650 MiB with 1 worker, 820 with 2, 1200 with 4) for each environment's workers.
    env_defaults: ClassVar[EnvDefaults] = {
        "memory_request": {"local": "768Mi", "prod": "1536Mi"},
        "memory_limit": {"prod": "2Gi"},
    }

    def problems(self) -> list[Problem]:
        return [
            Problem(
                f"{resource}_request",
                request,
                f"is above {resource}_limit {limit}; allowed: a request no larger than the limit",
            )
            for resource in ("cpu", "memory")
            if parse_quantity(request := getattr(self, f"{resource}_request"))
            > parse_quantity(limit := getattr(self, f"{resource}_limit"))
        ]


class MlflowConfig(Section):
    version: Version = Field(versions.MLFLOW_VERSION, description="MLflow version (image tag).")
    image: PinnedImage | None = Field(None, description="Image override (default: official -full).")
    namespace: DnsLabel = Field("mlflow", description="Namespace of the tracking server.")
    host: Hostname = Field(description="Ingress host name.")
    tls_secret: DnsSubdomain | None = Field(
        None, description="Your own TLS Secret for the host (with tls.issuer 'none')."
    )
    replicas: Count = Field(ge=1, le=50, description="Server replicas (>1 adds PDB and HPA).")
    max_replicas: Count | None = Field(
        None, ge=1, le=100, description="HPA maximum (default: twice replicas)."
    )
    target_cpu_utilization: Count = Field(70, ge=10, le=100, description="HPA CPU target (%).")
    workers: Count = Field(2, ge=1, le=32, description="Server worker processes per pod.")
    resources: ResourcesConfig = Field(
        default_factory=dict, validate_default=True, description="Container resources."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra Host headers to accept (the host and Service are always).",
    )
    telemetry: Flag = Field(
        False, description="Let MLflow send usage telemetry (off: MLFLOW_DISABLE_TELEMETRY)."
    )
    job_execution: Flag = Field(
        False,
        description=(
            "Run MLflow's server-side jobs (GenAI evaluation, trace rollups): each pod then "
            f"starts about seven worker processes and needs a memory_limit of at least "
            f"{JOB_EXECUTION_MEMORY}."
        ),
    )
    extra_env: dict[str, str] = Field(
        default_factory=dict, description="More environment for the server (a ConfigMap)."
    )
    extra_secret_env: dict[str, str] = Field(
        default_factory=dict,
        description="More environment from Pulumi secrets (`config set --secret`; a Secret).",
    )
    extra_args: list[str] = Field(
        default_factory=list, description="More `mlflow server` arguments (not ones we own)."
    )
    gc_schedule: CronSchedule = Field(
        "17 3 * * *", description="When `mlflow gc` purges deleted runs (cron, UTC)."
    )
    gc_older_than: GcAge = Field(
        "30d", description="Deleted runs older than this are purged, artifacts included."
    )
    log_level: LogLevel = Field(
        "INFO", description=f"MLflow's log level (MLFLOW_LOGGING_LEVEL): {', '.join(LOG_LEVELS)}."
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "host": {"local": "mlflow.local", "dev": "mlflow.dev.local"},
        "replicas": {"local": 1, "dev": 1, "staging": 1, "prod": 2},
        "workers": {"local": 1},
    }

    def problems(self) -> list[Problem]:
        problems = env_problems("extra_env", list(self.extra_env))
        problems += env_problems("extra_secret_env", list(self.extra_secret_env))
        problems += [
            Problem(
                "extra_args",
                arg,
                f"is set by {OWNED_SERVER_ARGS[flag]}; allowed: set that key instead",
            )
            for arg in self.extra_args
            if (flag := arg.split("=", 1)[0]) in OWNED_SERVER_ARGS
        ]
        return problems + self._autoscaler_problems() + self._job_execution_problems()

    def _job_execution_problems(self) -> list[Problem]:
        # Measured on a real kubelet: MLflow 3.17.2's job consumers took the pod past 1536Mi
        # within a minute of start and it was OOM-killed (tests/engine/test_engine_real_node.py).
        limit = self.resources.memory_limit
        if self.job_execution and parse_quantity(limit) < parse_quantity(JOB_EXECUTION_MEMORY):
            return [
                Problem(
                    "resources.memory_limit",
                    limit,
                    f"is too small with job_execution on; allowed: {JOB_EXECUTION_MEMORY} or more",
                )
            ]
        return []

    def _autoscaler_problems(self) -> list[Problem]:
        """The autoscaler exists only with more than one replica: its settings need one."""
        if self.replicas > 1:
            if self.effective_max_replicas < self.replicas:
                return [
                    Problem(
                        "max_replicas",
                        self.max_replicas,
                        f"below replicas {self.replicas}; allowed: >= replicas",
                    )
                ]
            return []
        return [
            Problem(
                name,
                getattr(self, name),
                "applies only to the autoscaler, which exists with replicas > 1; allowed: "
                "leave it out, or raise replicas",
            )
            for name in ("max_replicas", "target_cpu_utilization")
            if self.was_set(name)
        ]

    @property
    def effective_image(self) -> str:
        return self.image or versions.mlflow_image(self.version)

    @property
    def effective_max_replicas(self) -> int:
        return self.max_replicas or default_max_replicas(self.replicas)


def default_max_replicas(replicas: int) -> int:
    """The HPA's ceiling when the stack sets none: room to double under load."""
    return replicas * 2
