"""Print the README's config reference table from the schema: `python -m infra.config_docs`."""

from __future__ import annotations

from typing import Any, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from components import config as c

_SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("", c.PlatformConfig),
    ("gcp", c.GcpConfig),
    ("network", c.NetworkConfig),
    ("cluster (kind: minikube)", c.MinikubeClusterConfig),
    ("cluster (kind: gke)", c.GkeClusterConfig),
    ("cluster.node_pool", c.GkeNodePoolConfig),
    ("cluster (kind: existing)", c.ExistingClusterConfig),
    ("database (kind: cloudsql)", c.CloudSqlConfig),
    ("database.backups", c.BackupConfig),
    ("database (kind: in-cluster)", c.InClusterPostgresConfig),
    ("artifacts (kind: gcs)", c.GcsArtifactsConfig),
    ("artifacts (kind: volume)", c.VolumeArtifactsConfig),
    ("ingress", c.IngressConfig),
    ("ingress.chart", c.HelmChartConfig),
    ("mlflow", c.MlflowConfig),
    ("mlflow.resources", c.ResourcesConfig),
]


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if value == [] or value == {}:
        return "[]" if value == [] else "{}"
    return f"`{value}`"


def _default(model: type[BaseModel], name: str, env: c.Environment) -> str:
    per_env = getattr(model, "env_defaults", {}).get(name, {})
    if env in per_env:
        return _show(per_env[env])
    field = model.model_fields[name]
    if field.default is not PydanticUndefined:
        return _show(field.default)
    if field.default_factory is not None:
        return _show(field.default_factory())  # type: ignore[call-arg]
    return "**required**"


def table() -> str:
    envs = c.ENVIRONMENTS
    lines = [
        "| key | " + " | ".join(envs) + " | description |",
        "|---|" + "---|" * len(envs) + "---|",
    ]
    for prefix, model in _SECTIONS:
        section = prefix.split(" ")[0]
        for name, field in model.model_fields.items():
            # `kind` is in the section title; nested blocks get sections of their own.
            nested = c._models_in(field.annotation) and get_origin(field.annotation) is not list
            if name == "kind" or nested:
                continue
            key = f"{section}.{name}" if section else name
            qualifier = prefix[len(section) :].strip()
            defaults = " | ".join(_default(model, name, env) for env in envs)
            description = (field.description or "") + (f" {qualifier}" if qualifier else "")
            lines.append(f"| `{key}` | {defaults} | {description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
