"""The MLflow tracking server's block: what it runs, how it scales, what it may be passed."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from components.config.monitoring import LOG_LEVELS, LogLevel
from components.config.passthrough import (
    JOB_EXECUTION_MEMORY,
    OWNED_SERVER_ARGS,
    env_problems,
)
from components.config.protections import (
    allowed_host_problems,
    argument_problems,
    environment_problems,
)
from components.config.quantities import parse_quantity
from components.config.secrets import holds_password, looks_secret
from components.config.section import Described, EnvDefaults, Problem, Section
from components.config.values import (
    Count,
    CronSchedule,
    DnsLabel,
    DnsSubdomain,
    EnvValue,
    Flag,
    GcAge,
    Hostname,
    PinnedImage,
    Version,
)
from components.config.workload import ResourcesConfig
from components.shared import versions


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
    target_cpu_utilization: Count = Field(
        70,
        ge=10,
        le=1000,
        description="HPA CPU target (% of the request; above 100 lets a pod use its limit).",
    )
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
    extra_env: dict[str, EnvValue] = Field(
        default_factory=dict,
        description="More environment for the server (a ConfigMap: no credentials).",
    )
    extra_secret_env: dict[str, EnvValue] = Field(
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
        problems += argument_problems(self.extra_args)
        problems += environment_problems("extra_env", self.extra_env)
        problems += environment_problems("extra_secret_env", self.extra_secret_env)
        problems += allowed_host_problems(self.allowed_hosts)
        problems += self._plain_credential_problems() + self._image_problems()
        return problems + self._autoscaler_problems() + self._job_execution_problems()

    def _plain_credential_problems(self) -> list[Problem]:
        """extra_env lands in a ConfigMap: a credential there is readable by anyone who may
        read the namespace's config."""
        return [
            Problem(
                f"extra_env.{name}",
                Described("(not shown)"),
                "looks like a credential, and extra_env is a ConfigMap; allowed: "
                f"pulumi config set --secret --path 'mlflow.extra_secret_env.{name}' <value>",
            )
            for name, value in self.extra_env.items()
            if looks_secret(name) or holds_password(value)
        ]

    def _image_problems(self) -> list[Problem]:
        """The migration Job and the server are named for `version`: the image must be it."""
        if self.image is None:
            return []
        reference = self.image.split("@", 1)[0]
        name = reference.rsplit("/", 1)[-1]
        tag = name.partition(":")[2]
        if image_tag_matches(tag, self.version):
            return []
        found = f"tag {tag!r}" if tag else "no tag (a digest alone)"
        return [
            Problem(
                "image",
                self.image,
                f"has {found}, which does not name mlflow.version {self.version} (the schema "
                f"migration runs for that version); allowed: a tag naming it, such as "
                f"{versions.mlflow_image(self.version)} (a digest may follow: ...@sha256:...)",
            )
        ]

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
            return self._reachable_target()

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

    def _reachable_target(self) -> list[Problem]:
        """The HPA's target is a share of the CPU request; a pod is throttled at its limit, so
        a target above limit/request is never reached and the autoscaler never scales out."""
        resources = self.resources
        ceiling = int(
            100 * parse_quantity(resources.cpu_limit) / parse_quantity(resources.cpu_request)
        )
        if self.target_cpu_utilization <= ceiling or ceiling < 100:  # < 100: request > limit
            return []
        return [
            Problem(
                "target_cpu_utilization",
                self.target_cpu_utilization,
                f"is never reached: a pod stops at its cpu_limit {resources.cpu_limit}, "
                f"{ceiling}% of its cpu_request {resources.cpu_request}; allowed: {ceiling} or "
                "less, or a higher cpu_limit",
            )
        ]


def image_tag_matches(tag: str, version: str) -> bool:
    """v3.17.2, 3.17.2, v3.17.2-full and 3.17.2_custom name 3.17.2; 3.17.20 does not."""
    rest = tag.removeprefix("v")
    if not rest.startswith(version):
        return False
    after = rest[len(version) :]
    return after == "" or (not after[0].isdigit() and after[0] != ".")


def default_max_replicas(replicas: int) -> int:
    """The HPA's ceiling when the stack sets none: room to double under load."""
    return replicas * 2
