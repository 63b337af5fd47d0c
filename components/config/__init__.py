"""The one typed schema for a stack's configuration (the Platform component's arguments).

Every key lives under the `mlflow-platform:` namespace of a `stacks/Pulumi.<stack>.yaml` file.
`parse_config` validates the whole stack and raises a `ConfigError` that names each bad key,
its value and what is allowed; `infra.config.load_config` calls it before any resource exists.

Per-environment defaults are declared next to the field they belong to (`env_defaults`); the
components take their argument defaults from here (`default_of`), and the README's config table
(`python -m infra.config_docs`) is generated from the models (`sections`, `field_default`).

- `values`: value types (CIDR, DNS label, quantity, pinned image, ...)
- `section`: the block base class, environments, `AuthorizedNetwork`, `ConfigError`
- `infrastructure`, `stores`, `workload`, `mlflow_server`: the blocks
- `protections`, `secrets`, `mail_domains`, `cron`, `regions`, `kubeconfig`: what the blocks
  refuse (MLflow's protections switched off, secrets in clear text, public mail domains,
  schedules that never fire, places GCP does not have, a kubeconfig that is not there)
- `quantities`: Kubernetes quantities and nginx sizes; `names`: GCP and Kubernetes naming rules
- `platform`: the whole stack; `rules`, `exposure_rules`, `conflicts`: checks across blocks
- `parse`, `messages`: errors users read
- `derived`: the names and labels derived from the config and the stack, checked up front
- `introspect`: the schema's structure, for messages, docs and defaults
"""

from components.config.exposure import (
    AuthConfig,
    CertManagerChartConfig,
    DnsConfig,
    OidcConfig,
    TlsConfig,
)
from components.config.infrastructure import (
    ClusterConfig,
    ExistingClusterConfig,
    GcpConfig,
    GkeClusterConfig,
    GkeNodePoolConfig,
    MinikubeClusterConfig,
    NetworkConfig,
)
from components.config.introspect import (
    REQUIRED,
    chart_args,
    default_of,
    defaults_from,
    field_default,
    fields_except,
    fields_of,
    is_block,
    kind_models,
    kinds_of,
    models_in,
    sections,
)
from components.config.mlflow_server import MlflowConfig
from components.config.monitoring import MetricsConfig
from components.config.parse import parse_config
from components.config.platform import PlatformConfig
from components.config.section import (
    ENVIRONMENTS,
    PROJECT,
    AuthorizedNetwork,
    ConfigError,
    Environment,
    Problem,
    Section,
)
from components.config.stores import (
    ArtifactsConfig,
    BackupConfig,
    CloudSqlConfig,
    DatabaseConfig,
    GcsArtifactsConfig,
    InClusterPostgresConfig,
    VolumeArtifactsConfig,
)
from components.config.values import (
    Cidr,
    Count,
    CpuQuantity,
    DnsLabel,
    DnsSubdomain,
    Flag,
    GcpProject,
    GcpRegion,
    Hostname,
    MemoryQuantity,
    NginxSize,
    PasswordRotation,
    PinnedImage,
    Version,
)
from components.config.workload import (
    HelmChartConfig,
    IngressConfig,
    ResourcesConfig,
)

__all__ = [
    "ENVIRONMENTS",
    "PROJECT",
    "REQUIRED",
    "ArtifactsConfig",
    "AuthConfig",
    "AuthorizedNetwork",
    "BackupConfig",
    "CertManagerChartConfig",
    "Cidr",
    "CloudSqlConfig",
    "ClusterConfig",
    "ConfigError",
    "Count",
    "CpuQuantity",
    "DatabaseConfig",
    "DnsConfig",
    "DnsLabel",
    "DnsSubdomain",
    "Environment",
    "ExistingClusterConfig",
    "Flag",
    "GcpConfig",
    "GcpProject",
    "GcpRegion",
    "GcsArtifactsConfig",
    "GkeClusterConfig",
    "GkeNodePoolConfig",
    "HelmChartConfig",
    "Hostname",
    "InClusterPostgresConfig",
    "IngressConfig",
    "MemoryQuantity",
    "MetricsConfig",
    "MinikubeClusterConfig",
    "MlflowConfig",
    "NetworkConfig",
    "NginxSize",
    "OidcConfig",
    "PasswordRotation",
    "PinnedImage",
    "PlatformConfig",
    "Problem",
    "ResourcesConfig",
    "Section",
    "TlsConfig",
    "Version",
    "VolumeArtifactsConfig",
    "chart_args",
    "default_of",
    "defaults_from",
    "field_default",
    "fields_except",
    "fields_of",
    "is_block",
    "kind_models",
    "kinds_of",
    "models_in",
    "parse_config",
    "sections",
]
