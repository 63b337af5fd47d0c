"""The one typed schema for a stack's configuration (the Platform component's arguments).

Every key lives under the `mlflow-platform:` namespace of a `stacks/Pulumi.<stack>.yaml` file.
`parse_config` validates the whole stack and raises a `ConfigError` that names each bad key,
its value and what is allowed; `infra.config.load_config` calls it before any resource exists.

Per-environment defaults are declared next to the field they belong to (`env_defaults`), so
the README's config table (`python -m infra.config_docs`) is generated from this module.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from components import versions

PROJECT = "mlflow-platform"

Environment = Literal["local", "dev", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("local", "dev", "staging", "prod")


class ConfigError(ValueError):
    """A stack configuration that must not be deployed; `problems` holds one line per key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack configuration:\n  - " + "\n  - ".join(problems))


# --- value checks with messages that say what is allowed ------------------------------------


def _matcher(pattern: str, allowed: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"allowed: {allowed}")
        return value

    return check


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError("allowed: an IPv4 CIDR block such as 10.0.0.0/16") from None
    return str(network)


def _pinned_image(value: str) -> str:
    name = value.rsplit("/", 1)[-1]
    if "@sha256:" in value:
        return value
    if ":" not in name or name.endswith(":latest"):
        raise ValueError("allowed: an image with an explicit version tag or digest (not :latest)")
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
GcpProject = Annotated[
    str,
    AfterValidator(
        _matcher(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", "a GCP project id such as my-ml-project")
    ),
]
GcpRegion = Annotated[
    str, AfterValidator(_matcher(r"[a-z]+-[a-z]+[0-9]+", "a GCP region such as europe-west1"))
]
DnsLabel = Annotated[
    str,
    AfterValidator(
        _matcher(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a lowercase DNS label such as mlflow")
    ),
]
Hostname = Annotated[
    str,
    AfterValidator(
        _matcher(
            r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?",
            "a lowercase DNS name such as mlflow.example.com",
        )
    ),
]
Quantity = Annotated[
    str,
    AfterValidator(
        _matcher(r"[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?", "a Kubernetes quantity such as 500m or 2Gi")
    ),
]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
# Any value; `pulumi config set --path database.password_rotation 2` stores a number, so
# numbers count as their text.
PasswordRotation = Annotated[
    str,
    Field(
        min_length=1,
        coerce_numbers_to_str=True,
        description="Change to any new value to rotate the password.",
    ),
]
Version = Annotated[
    str, AfterValidator(_matcher(r"[0-9]+\.[0-9]+\.[0-9]+", "a version like 3.17.2"))
]


class Section(BaseModel):
    """A config block: unknown keys are errors; `env_defaults` fill what the stack leaves out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env_defaults: ClassVar[Mapping[str, Mapping[Environment, Any]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _fill_environment_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        environment = (info.context or {}).get("environment")
        if not isinstance(data, dict) or environment is None:
            return data
        defaults = {
            key: per_env[environment]
            for key, per_env in cls.env_defaults.items()
            if environment in per_env
        }
        return {**defaults, **data}


class AuthorizedNetwork(Section):
    name: str = Field(description="Label shown in the console.")
    cidr: Cidr = Field(description="IPv4 CIDR block allowed to connect.")


# --- GCP --------------------------------------------------------------------------------------


class GcpConfig(Section):
    project: GcpProject = Field(description="GCP project id.")
    region: GcpRegion = Field(description="Region for the cluster, database and bucket.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Labels on every GCP resource."
    )


class NetworkConfig(Section):
    """The VPC for GKE and private-IP Cloud SQL."""

    create: bool = Field(True, description="Create the VPC and subnet; false uses `name` as is.")
    name: DnsLabel = Field("mlflow", description="VPC (and subnet) name.")
    subnet_cidr: Cidr = Field("10.10.0.0/20", description="Primary range of the subnet (nodes).")
    pods_cidr: Cidr = Field("10.16.0.0/14", description="Secondary range for Pods.")
    services_cidr: Cidr = Field("10.20.0.0/20", description="Secondary range for Services.")

    @model_validator(mode="after")
    def _ranges_do_not_overlap(self) -> NetworkConfig:
        ranges = {
            "subnet_cidr": self.subnet_cidr,
            "pods_cidr": self.pods_cidr,
            "services_cidr": self.services_cidr,
        }
        items = list(ranges.items())
        for i, (key_a, cidr_a) in enumerate(items):
            for key_b, cidr_b in items[i + 1 :]:
                if ipaddress.IPv4Network(cidr_a).overlaps(ipaddress.IPv4Network(cidr_b)):
                    raise ValueError(
                        f"{key_a} {cidr_a} overlaps {key_b} {cidr_b}; allowed: disjoint ranges"
                    )
        return self


# --- cluster ----------------------------------------------------------------------------------


class MinikubeClusterConfig(Section):
    kind: Literal["minikube"]
    profile: DnsLabel = Field(description="minikube profile (and kubeconfig context) name.")
    kubernetes_version: str = Field(
        versions.MINIKUBE_KUBERNETES_VERSION,
        pattern=r"^v1\.[0-9]+\.[0-9]+$",
        description="Kubernetes version minikube starts.",
    )
    cpus: int = Field(2, ge=2, le=64, description="CPUs for the minikube node.")
    memory_mb: int = Field(4096, ge=2048, le=262144, description="Memory (MiB) for the node.")
    driver: Literal["docker", "podman", "kvm2", "qemu2", "hyperkit", "virtualbox", "vfkit"] = Field(
        "docker", description="minikube driver."
    )
    addons: list[DnsLabel] = Field(
        default_factory=list,
        description="minikube addons, e.g. gcp-auth to reach GCS and Cloud SQL.",
    )

    env_defaults = {
        "profile": {
            "local": "mlflow-local",
            "dev": "mlflow-dev",
            "staging": "mlflow-staging",
            "prod": "mlflow-prod",
        },
    }


class GkeNodePoolConfig(Section):
    machine_type: str = Field("e2-standard-4", description="Node machine type (Standard mode).")
    min_nodes: int = Field(1, ge=0, le=100, description="Autoscaling minimum per zone.")
    max_nodes: int = Field(3, ge=1, le=100, description="Autoscaling maximum per zone.")
    disk_size_gb: int = Field(50, ge=20, le=2000, description="Boot disk size.")
    spot: bool = Field(False, description="Use Spot VMs (cheap, preemptible).")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> GkeNodePoolConfig:
        if self.min_nodes > self.max_nodes:
            raise ValueError(
                f"min_nodes {self.min_nodes} > max_nodes {self.max_nodes}; allowed: min <= max"
            )
        return self


class GkeClusterConfig(Section):
    kind: Literal["gke"]
    name: DnsLabel = Field("mlflow", description="Cluster name prefix.")
    mode: Literal["autopilot", "standard"] = Field("autopilot", description="GKE mode.")
    kubernetes_version: str = Field(
        versions.KUBERNETES_VERSION,
        pattern=r"^1\.[0-9]+(\.[0-9]+(-gke\.[0-9]+)?)?$",
        description="Minimum master version (release channel upgrades from there).",
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = Field(
        "REGULAR", description="GKE release channel."
    )
    private_nodes: bool = Field(description="Nodes get no public IPs.")
    master_ipv4_cidr: Cidr = Field(
        "172.16.0.32/28", description="/28 for the control plane when nodes are private."
    )
    master_authorized_networks: list[AuthorizedNetwork] = Field(
        default_factory=list,
        description="Who may reach the control plane (empty: anyone, with auth).",
    )
    deletion_protection: bool = Field(description="Refuse to delete the cluster.")
    node_pool: GkeNodePoolConfig = Field(
        default_factory=dict,
        validate_default=True,
        description="Own node pool (Standard mode only).",
    )

    env_defaults = {
        "private_nodes": {"staging": True, "prod": True, "dev": False, "local": False},
        "deletion_protection": {"prod": True, "staging": False, "dev": False, "local": False},
    }

    @model_validator(mode="after")
    def _control_plane_range(self) -> GkeClusterConfig:
        if self.private_nodes and ipaddress.IPv4Network(self.master_ipv4_cidr).prefixlen != 28:
            raise ValueError(
                f"master_ipv4_cidr {self.master_ipv4_cidr} must be a /28 when private_nodes is true"
            )
        return self


class ExistingClusterConfig(Section):
    kind: Literal["existing"]
    kubeconfig: str = Field("~/.kube/config", description="Path to the kubeconfig file.")
    context: str = Field(min_length=1, description="kubeconfig context to deploy into.")
    kubernetes_version: str = Field(
        versions.KUBERNETES_VERSION,
        pattern=r"^1\.[0-9]+$",
        description="Kubernetes minor of that cluster (for manifest validation).",
    )


ClusterConfig = Annotated[
    MinikubeClusterConfig | GkeClusterConfig | ExistingClusterConfig, Field(discriminator="kind")
]

# --- database ---------------------------------------------------------------------------------


class BackupConfig(Section):
    enabled: bool = Field(description="Daily automated backups.")
    point_in_time_recovery: bool = Field(description="Write-ahead log retention for PITR.")
    retained_backups: int = Field(7, ge=1, le=365, description="How many daily backups to keep.")
    transaction_log_retention_days: int = Field(7, ge=1, le=7, description="PITR window in days.")
    start_time: str = Field(
        "03:00", pattern=r"^([01][0-9]|2[0-3]):00$", description="Backup window start (UTC, HH:00)."
    )

    env_defaults = {
        "enabled": {"dev": False, "staging": True, "prod": True, "local": False},
        "point_in_time_recovery": {"dev": False, "staging": False, "prod": True, "local": False},
    }

    @model_validator(mode="after")
    def _pitr_needs_backups(self) -> BackupConfig:
        if self.point_in_time_recovery and not self.enabled:
            raise ValueError("point_in_time_recovery=true needs enabled=true")
        return self


class CloudSqlConfig(Section):
    kind: Literal["cloudsql"]
    instance_name: DnsLabel = Field(
        "mlflow", description="Instance name prefix (Pulumi adds a suffix)."
    )
    database_version: Literal["POSTGRES_15", "POSTGRES_16", "POSTGRES_17"] = Field(
        versions.CLOUD_SQL_DATABASE_VERSION, description="PostgreSQL major version."
    )
    edition: Literal["ENTERPRISE", "ENTERPRISE_PLUS"] = Field(
        "ENTERPRISE", description="Set explicitly so shared-core tiers keep working."
    )
    tier: str = Field(
        pattern=r"^db-(f1-micro|g1-small|custom-[0-9]+-[0-9]+|perf-optimized-N-[0-9]+)$",
        description="Machine tier.",
    )
    disk_size_gb: int = Field(10, ge=10, le=65536, description="Initial SSD size (auto-grows).")
    availability_type: Literal["ZONAL", "REGIONAL"] = Field(description="REGIONAL is HA.")
    private_ip: bool = Field(description="Private IP only (private services access).")
    authorized_networks: list[AuthorizedNetwork] = Field(
        default_factory=list, description="Public-IP mode: networks allowed to connect."
    )
    deletion_protection: bool = Field(description="Refuse to delete the instance.")
    backups: BackupConfig = Field(
        default_factory=dict, validate_default=True, description="Backups and PITR."
    )
    database: DnsLabel = Field("mlflow", description="Database name.")
    user: DnsLabel = Field("mlflow", description="Database user.")
    password_rotation: PasswordRotation = "1"
    import_instance: DnsLabel | None = Field(
        None, description="Adopt this existing instance (by name) instead of creating one."
    )

    env_defaults = {
        "tier": {
            "dev": "db-f1-micro",
            "staging": "db-custom-1-3840",
            "prod": "db-custom-2-7680",
            "local": "db-f1-micro",
        },
        "availability_type": {
            "dev": "ZONAL",
            "staging": "ZONAL",
            "prod": "REGIONAL",
            "local": "ZONAL",
        },
        "private_ip": {"dev": False, "staging": True, "prod": True, "local": False},
        "deletion_protection": {"dev": False, "staging": False, "prod": True, "local": False},
    }

    @model_validator(mode="after")
    def _network_and_tier_rules(self) -> CloudSqlConfig:
        for network in self.authorized_networks:
            if ipaddress.IPv4Network(network.cidr).prefixlen == 0:
                raise ValueError(
                    f"authorized_networks {network.name}={network.cidr} opens the database to "
                    "the internet; allowed: specific ranges"
                )
        if not self.private_ip and not self.authorized_networks:
            raise ValueError(
                "private_ip=false needs at least one authorized_networks entry "
                "(or set private_ip=true)"
            )
        perf_tier = self.tier.startswith("db-perf-optimized")
        if perf_tier != (self.edition == "ENTERPRISE_PLUS"):
            raise ValueError(
                f"tier {self.tier} does not fit edition {self.edition}; allowed: "
                "db-perf-optimized-* with ENTERPRISE_PLUS, other tiers with ENTERPRISE"
            )
        return self


class InClusterPostgresConfig(Section):
    kind: Literal["in-cluster"]
    image: PinnedImage = Field(versions.POSTGRES_IMAGE, description="Official postgres image.")
    storage_size: Quantity = Field("5Gi", description="PersistentVolumeClaim size.")
    storage_class: str | None = Field(None, description="StorageClass (cluster default if unset).")
    database: DnsLabel = Field("mlflow", description="Database name.")
    user: DnsLabel = Field("mlflow", description="Database user.")
    password_rotation: PasswordRotation = "1"


DatabaseConfig = Annotated[CloudSqlConfig | InClusterPostgresConfig, Field(discriminator="kind")]

# --- artifacts --------------------------------------------------------------------------------


class GcsArtifactsConfig(Section):
    kind: Literal["gcs"]
    bucket_name: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$",
        description="Bucket name (default: <project>-mlflow-<stack>).",
    )
    location: str | None = Field(None, description="Bucket location (default: the region).")
    storage_class: Literal["STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE"] = Field(
        "STANDARD", description="Storage class."
    )
    noncurrent_version_retention_days: int = Field(
        30, ge=1, le=3650, description="Days before overwritten/deleted versions are removed."
    )
    force_destroy: bool = Field(description="Destroy deletes the objects too (disposable only).")
    protect: bool = Field(description="Pulumi refuses to delete the bucket.")
    import_existing: bool = Field(
        False, description="Adopt the existing bucket `bucket_name` instead of creating it."
    )

    env_defaults = {
        "force_destroy": {"local": True, "dev": True, "staging": True, "prod": False},
        "protect": {"local": False, "dev": False, "staging": False, "prod": True},
    }

    @model_validator(mode="after")
    def _protected_is_not_force_destroyed(self) -> GcsArtifactsConfig:
        if self.protect and self.force_destroy:
            raise ValueError("protect=true contradicts force_destroy=true; pick one")
        if self.import_existing and not self.bucket_name:
            raise ValueError("import_existing=true needs bucket_name (the bucket to adopt)")
        return self


class VolumeArtifactsConfig(Section):
    kind: Literal["volume"]
    size: Quantity = Field("10Gi", description="PersistentVolumeClaim size.")
    storage_class: str | None = Field(None, description="StorageClass (cluster default if unset).")


ArtifactsConfig = Annotated[GcsArtifactsConfig | VolumeArtifactsConfig, Field(discriminator="kind")]

# --- ingress ----------------------------------------------------------------------------------


class HelmChartConfig(Section):
    repository: str = Field(
        versions.INGRESS_NGINX_CHART_REPOSITORY, description="Chart repository."
    )
    name: str = Field(versions.INGRESS_NGINX_CHART_NAME, description="Chart name.")
    version: str = Field(
        versions.INGRESS_NGINX_CHART_VERSION, description="Chart version (pinned)."
    )
    path: str | None = Field(
        None, description="Local chart directory or .tgz (air-gapped installs)."
    )


class IngressConfig(Section):
    enabled: bool = Field(True, description="Install the ingress-nginx controller.")
    namespace: DnsLabel = Field("ingress-nginx", description="Controller namespace.")
    chart: HelmChartConfig = Field(
        default_factory=dict, validate_default=True, description="Chart source."
    )
    service_type: Literal["NodePort", "LoadBalancer"] | None = Field(
        None,
        description="Controller Service type (default: NodePort on minikube, else LoadBalancer).",
    )
    http_node_port: int = Field(30080, ge=30000, le=32767, description="HTTP NodePort.")
    proxy_body_size: str = Field(
        "5g", pattern=r"^[0-9]+[kmg]?$", description="Largest artifact upload through the ingress."
    )
    replicas: int = Field(1, ge=1, le=10, description="Controller replicas.")
    values: dict[str, Any] = Field(
        default_factory=dict, description="Extra Helm values merged over ours."
    )

    env_defaults = {"replicas": {"prod": 2}}


# --- MLflow -----------------------------------------------------------------------------------


class ResourcesConfig(Section):
    cpu_request: Quantity = Field("250m", description="CPU request.")
    memory_request: Quantity = Field("768Mi", description="Memory request.")
    cpu_limit: Quantity = Field("1", description="CPU limit.")
    memory_limit: Quantity = Field("1536Mi", description="Memory limit.")


class MlflowConfig(Section):
    version: Version = Field(versions.MLFLOW_VERSION, description="MLflow version (image tag).")
    image: PinnedImage | None = Field(None, description="Image override (default: official -full).")
    namespace: DnsLabel = Field("mlflow", description="Namespace of the tracking server.")
    host: Hostname = Field(description="Ingress host name.")
    tls_secret: DnsLabel | None = Field(
        None, description="TLS Secret for the host (enables https)."
    )
    replicas: int = Field(ge=1, le=50, description="Server replicas (>1 adds PDB and HPA).")
    max_replicas: int | None = Field(
        None, ge=1, le=100, description="HPA maximum (default: twice replicas)."
    )
    target_cpu_utilization: int = Field(70, ge=10, le=100, description="HPA CPU target (%).")
    workers: int = Field(2, ge=1, le=32, description="Server worker processes per pod.")
    resources: ResourcesConfig = Field(
        default_factory=dict, validate_default=True, description="Container resources."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra Host headers to accept (the host and Service are always).",
    )

    env_defaults = {
        "host": {"local": "mlflow.local", "dev": "mlflow.dev.local"},
        "replicas": {"local": 1, "dev": 1, "staging": 1, "prod": 2},
        "workers": {"local": 1},
    }

    @property
    def effective_image(self) -> str:
        return self.image or versions.mlflow_image(self.version)

    @property
    def effective_max_replicas(self) -> int:
        return self.max_replicas or self.replicas * 2


# --- the stack --------------------------------------------------------------------------------

_SECTIONS_WITH_DEFAULTS = ("ingress", "mlflow")


class PlatformConfig(BaseModel):
    """Everything one stack needs, validated as a whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Environment = Field(description="Which environment this stack is.")
    gcp: GcpConfig | None = Field(None, description="GCP project and region.")
    network: NetworkConfig | None = Field(None, description="VPC for GKE and private Cloud SQL.")
    cluster: ClusterConfig = Field(description="Where Kubernetes comes from.")
    database: DatabaseConfig = Field(description="MLflow's backend store.")
    artifacts: ArtifactsConfig = Field(description="MLflow's artifact store.")
    ingress: IngressConfig = Field(description="ingress-nginx controller.")
    mlflow: MlflowConfig = Field(description="The tracking server.")

    @model_validator(mode="before")
    @classmethod
    def _default_sections(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**{key: {} for key in _SECTIONS_WITH_DEFAULTS}, **data}
        return data

    @property
    def uses_gcp(self) -> bool:
        return (
            self.cluster.kind == "gke"
            or self.database.kind == "cloudsql"
            or self.artifacts.kind == "gcs"
        )

    @property
    def ingress_service_type(self) -> Literal["NodePort", "LoadBalancer"]:
        if self.ingress.service_type is not None:
            return self.ingress.service_type
        return "NodePort" if self.cluster.kind == "minikube" else "LoadBalancer"


def _key(path: str) -> str:
    return f"{PROJECT}:{path}"


def _cross_section_problems(cfg: PlatformConfig) -> list[str]:
    """Rules that span sections; each line names the key, the value and what is allowed."""
    problems: list[str] = []
    if cfg.uses_gcp and cfg.gcp is None:
        problems.append(
            f"{_key('gcp')} is missing: required when cluster.kind={cfg.cluster.kind!r}, "
            f"database.kind={cfg.database.kind!r}, artifacts.kind={cfg.artifacts.kind!r} "
            "use GCP; allowed: {project: ..., region: ...}"
        )
    if cfg.cluster.kind == "gke" and cfg.network is None:
        problems.append(f"{_key('network')} is missing: GKE needs a VPC; allowed: a network block")
    db = cfg.database
    if isinstance(db, CloudSqlConfig) and db.private_ip:
        if cfg.network is None:
            problems.append(
                f"{_key('database.private_ip')} = True needs a VPC but {_key('network')} is not "
                "set; allowed: add a network block or private_ip=false with authorized_networks"
            )
        if cfg.cluster.kind != "gke":
            problems.append(
                f"{_key('database.private_ip')} = True is unreachable from "
                f"cluster.kind={cfg.cluster.kind!r}; allowed: private_ip with cluster.kind='gke'"
            )
    if cfg.artifacts.kind == "volume" and cfg.mlflow.replicas > 1:
        problems.append(
            f"{_key('mlflow.replicas')} = {cfg.mlflow.replicas}: a ReadWriteOnce artifact volume "
            "serves one pod; allowed: 1 with artifacts.kind='volume', or artifacts.kind='gcs'"
        )
    if cfg.mlflow.effective_max_replicas < cfg.mlflow.replicas:
        problems.append(
            f"{_key('mlflow.max_replicas')} = {cfg.mlflow.max_replicas}: below replicas "
            f"{cfg.mlflow.replicas}; allowed: >= replicas"
        )
    if cfg.environment == "prod":
        problems.extend(_prod_problems(cfg))
    return problems


def _prod_problems(cfg: PlatformConfig) -> list[str]:
    """prod keeps its data: HA, private, protected, backed up. Each rule is a separate line."""
    required: list[tuple[str, Any, Any]] = []
    problems: list[str] = []
    if cfg.mlflow.replicas < 2:
        problems.append(
            f"{_key('mlflow.replicas')} = {cfg.mlflow.replicas} in prod; allowed: 2 or more (HA)"
        )
    db = cfg.database
    if not isinstance(db, CloudSqlConfig):
        problems.append(f"{_key('database.kind')} = {db.kind!r} in prod; allowed: 'cloudsql'")
    else:
        required += [
            ("database.deletion_protection", db.deletion_protection, True),
            ("database.private_ip", db.private_ip, True),
            ("database.availability_type", db.availability_type, "REGIONAL"),
            ("database.backups.enabled", db.backups.enabled, True),
            ("database.backups.point_in_time_recovery", db.backups.point_in_time_recovery, True),
        ]
    art = cfg.artifacts
    if not isinstance(art, GcsArtifactsConfig):
        problems.append(f"{_key('artifacts.kind')} = {art.kind!r} in prod; allowed: 'gcs'")
    else:
        required += [
            ("artifacts.protect", art.protect, True),
            ("artifacts.force_destroy", art.force_destroy, False),
        ]
    if isinstance(cfg.cluster, GkeClusterConfig):
        required.append(("cluster.deletion_protection", cfg.cluster.deletion_protection, True))
    problems.extend(
        f"{_key(path)} = {value!r} in prod; allowed: {wanted!r}"
        for path, value, wanted in required
        if value != wanted
    )
    return problems


_UNION_MEMBERS: dict[str, type[BaseModel]] = {
    "minikube": MinikubeClusterConfig,
    "gke": GkeClusterConfig,
    "existing": ExistingClusterConfig,
    "cloudsql": CloudSqlConfig,
    "in-cluster": InClusterPostgresConfig,
    "gcs": GcsArtifactsConfig,
    "volume": VolumeArtifactsConfig,
}
_UNION_TAGS = set(_UNION_MEMBERS)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the block holding `loc[-1]` accepts (loc as pydantic reports it)."""
    model: type[BaseModel] | None = PlatformConfig
    for part in loc[:-1]:
        if model is None and part in _UNION_MEMBERS:
            model = _UNION_MEMBERS[part]
            continue
        if isinstance(part, int) or model is None:
            continue
        field_info = model.model_fields.get(str(part))
        if field_info is None:
            return []
        models = _models_in(field_info.annotation)
        model = models[0] if len(models) == 1 else None
    return sorted(model.model_fields) if model is not None else []


def _format_pydantic_error(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    # Discriminated unions put the tag into the location (database.cloudsql.tier): drop it.
    path = ".".join(part for i, part in enumerate(loc) if not (i == 1 and part in _UNION_TAGS))
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return f"{_key(path)} is required"
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(tuple(error["loc"])))
        return f"{_key(path)} = {error['input']!r}: unknown key; allowed keys: {allowed}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        value = error["input"].get("kind") if isinstance(error["input"], dict) else error["input"]
        return f"{_key(path + '.kind')} = {value!r}: {message}"
    return f"{_key(path)} = {error['input']!r}: {message}"


def parse_config(raw: Mapping[str, Any]) -> PlatformConfig:
    """Validate a mapping of `mlflow-platform:` keys (without the prefix) into the schema."""
    environment = raw.get("environment")
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            [f"{_key('environment')} = {environment!r}: allowed: {', '.join(ENVIRONMENTS)}"]
        )
    try:
        cfg = PlatformConfig.model_validate(dict(raw), context={"environment": environment})
    except ValidationError as exc:
        raise ConfigError([_format_pydantic_error(e) for e in exc.errors()]) from None
    problems = _cross_section_problems(cfg)
    if problems:
        raise ConfigError(problems)
    return cfg
