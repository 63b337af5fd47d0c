"""The Helm releases a stack registers, rendered by the real `helm` from the upstream charts
in `<repo root>/../shared/charts` (see its README), with the values as registered."""

from __future__ import annotations

import functools
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import referencing
import yaml
from jsonschema.validators import validator_for
from referencing.jsonschema import DRAFT202012

from components.workload.ingress.controller import deep_merge
from tests.harness import ROOT, Capture
from tests.manifests.render import integers
from tests.manifests.requires import require

HELM = ROOT / ".tools" / "bin" / "helm"
CHARTS_DIR = ROOT.parent / "shared" / "charts"
RELEASE = "kubernetes:helm.sh/v3:Release"

# Pinned chart version -> the version of the chart obtainable here, where they differ
# (provenance: CHARTS_DIR/README.md).
KNOWN_VERSION_DIFFERENCES = {
    # F5 2.7.1 is released upstream but could not be obtained as a whole chart; 2.7.0 is the
    # nearest (2.6.4 gives the same results for every key the platform sets).
    ("nginx-ingress", "2.7.1"): "2.7.0",
    # cert-manager's local chart is labelled v1.21.3, the pin, over v1.21.2's templates.
}

# F5's values.schema.json takes its Kubernetes types from this online file; the same
# definitions ship with kubernetes-validate, under `$defs` and their own `$id`.
ONLINE_DEFINITIONS = (
    "https://raw.githubusercontent.com/nginxinc/kubernetes-json-schema/master/v1.36.1/"
    "_definitions.json#/definitions/"
)
SCHEMAS_DIR = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def require_helm() -> None:
    require(HELM.exists(), f"helm is not built at {HELM}: `make tools` builds it")
    require(CHARTS_DIR.is_dir(), f"the upstream charts are not at {CHARTS_DIR}")


@dataclass(frozen=True)
class Release:
    """One Helm release as the stack registered it."""

    name: str
    namespace: str
    chart: str  # the chart's name
    version: str  # the pinned chart version
    values: dict[str, Any]

    @property
    def chart_dir(self) -> Path:
        return CHARTS_DIR / self.chart


def releases(capture: Capture) -> list[Release]:
    out = []
    for reg in capture.of_type(RELEASE):
        inputs = integers(reg.inputs)
        out.append(
            Release(
                name=inputs["name"],
                namespace=inputs["namespace"],
                # An OCI reference is the chart's URL: its name is the last part.
                chart=inputs["chart"].rstrip("/").rsplit("/", 1)[-1],
                version=inputs["version"],
                values=inputs.get("values", {}),
            )
        )
    return out


def local_version(release: Release) -> str:
    chart = yaml.safe_load((release.chart_dir / "Chart.yaml").read_text())
    return str(chart["version"])


def expected_local_version(release: Release) -> str:
    return KNOWN_VERSION_DIFFERENCES.get((release.chart, release.version), release.version)


def has_online_refs(chart_dir: Path) -> bool:
    schema = chart_dir / "values.schema.json"
    return schema.exists() and ONLINE_DEFINITIONS in schema.read_text()


def template(release: Release, kube_version: str, values: dict[str, Any] | None = None) -> str:
    """`helm template` of the release, CRDs included, for Kubernetes `kube_version`."""
    chosen = release.values if values is None else values
    where = (release.chart_dir, release.name, release.namespace)
    return _template(*where, kube_version, json.dumps(chosen, sort_keys=True))


@functools.cache
def _template(chart_dir: Path, name: str, namespace: str, kube_version: str, values: str) -> str:
    """Stacks share releases (cert-manager's is the same in all): each is rendered once."""
    args = [str(HELM), "template", name, str(chart_dir), "--namespace", namespace]
    args += ["--kube-version", kube_version, "--include-crds"]
    if has_online_refs(chart_dir):
        # helm would fetch the online $refs; schema_errors checks the values offline instead.
        args.append("--skip-schema-validation")
    result = subprocess.run(
        [*args, "--values", "-"], input=values, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"helm template {chart_dir.name}: {result.stderr[-2000:]}"
    return result.stdout


def chart_defaults(chart_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((chart_dir / "values.yaml").read_text()) or {}


SCHEMA_URI = "urn:mlflow-platform:chart-values-schema"


def values_schema(chart_dir: Path, kube_version: str) -> tuple[dict[str, Any], Any]:
    """The chart's values.schema.json, its online Kubernetes `$ref`s pointed at
    kubernetes-validate's strict definitions for `kube_version`, and a registry holding both
    (the schema under SCHEMA_URI)."""
    text = (chart_dir / "values.schema.json").read_text()
    definitions = json.loads(
        (SCHEMAS_DIR / f"v{kube_version}-local-strict" / "_definitions.json").read_text()
    )
    schema = json.loads(text.replace(ONLINE_DEFINITIONS, f"{definitions['$id']}#/$defs/"))
    registry = referencing.Registry().with_resources(
        [
            (definitions["$id"], referencing.Resource.from_contents(definitions)),
            (SCHEMA_URI, referencing.Resource.from_contents(schema, DRAFT202012)),
        ]
    )
    return schema, registry


def schema_errors(release: Release, kube_version: str) -> list[str]:
    """What the chart's values.schema.json says of the values, merged over the chart's
    defaults as Helm validates them."""
    schema, registry = values_schema(release.chart_dir, kube_version)
    validator = validator_for(schema)(schema, registry=registry)
    merged = deep_merge(chart_defaults(release.chart_dir), release.values)
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(merged)
    ]


def key_paths(values: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf the values set: a scalar, a list or an empty map ends a path."""
    paths = []
    for key, value in values.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            paths.extend(key_paths(value, path))
        else:
            paths.append(path)
    return paths


def in_values(path: tuple[str, ...], defaults: dict[str, Any]) -> bool:
    node: Any = defaults
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def in_schema(path: tuple[str, ...], schema: dict[str, Any], registry: Any) -> bool:
    """The path is declared under `properties` all the way down (through `$ref`s)."""
    resolver = registry.resolver(base_uri=SCHEMA_URI)
    node = schema
    for key in path:
        while "$ref" in node:
            resolved = resolver.lookup(node["$ref"])
            node, resolver = resolved.contents, resolved.resolver
        properties = node.get("properties", {})
        if key not in properties:
            return False
        node = properties[key]
    return True


def without(values: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(values))
    node = copy
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return copy


@dataclass(frozen=True)
class Rendered:
    """A release as `helm template` rendered it for the stack's Kubernetes version."""

    release: Release
    kube_version: str
    text: str

    @property
    def objects(self) -> list[dict[str, Any]]:
        return [doc for doc in yaml.safe_load_all(self.text) if doc]


def render(release: Release, kube_version: str) -> Rendered:
    return Rendered(release, kube_version, template(release, kube_version))


def key_sources(rendered: Rendered) -> dict[tuple[str, ...], str | None]:
    """Where the chart takes each key the platform sets from: "values.yaml", "schema", or
    "effect" (neither declares it, yet the output changes without it); None: nowhere."""
    release = rendered.release
    defaults = chart_defaults(release.chart_dir)
    schema, registry = (
        values_schema(release.chart_dir, rendered.kube_version)
        if (release.chart_dir / "values.schema.json").exists()
        else ({}, None)
    )
    sources: dict[tuple[str, ...], str | None] = {}
    for path in key_paths(release.values):
        if in_values(path, defaults):
            sources[path] = "values.yaml"
        elif registry is not None and in_schema(path, schema, registry):
            sources[path] = "schema"
        elif (
            template(release, rendered.kube_version, without(release.values, path)) != rendered.text
        ):
            sources[path] = "effect"
        else:
            sources[path] = None
    return sources
