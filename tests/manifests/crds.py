"""Custom resources checked as strictly as the API server would: against their CRD's schema,
with unknown fields refused (what `kubectl apply --validate=strict` does for a CRD)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.harness import ROOT

# Fetched by `make controlplane` (tools/controlplane/build.sh) from the cert-manager,
# Prometheus Operator and Google Managed Prometheus modules.
CRD_DIR = ROOT / ".tools" / "crds"
CUSTOM_GROUPS = ("cert-manager.io", "monitoring.coreos.com", "monitoring.googleapis.com")


def is_custom(obj: dict[str, Any]) -> bool:
    return obj["apiVersion"].split("/")[0] in CUSTOM_GROUPS


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI v3 structural schema as JSON Schema, with unknown properties refused."""
    out = {k: v for k, v in schema.items() if not k.startswith("x-kubernetes")}
    if "properties" in schema:
        out["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
    if isinstance(schema.get("additionalProperties"), dict):
        out["additionalProperties"] = _strict(schema["additionalProperties"])
    if "items" in schema:
        out["items"] = _strict(schema["items"])
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in schema:
            out[combinator] = [_strict(s) for s in schema[combinator]]
    return out


def load_schemas(directory: Path = CRD_DIR) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict JSON Schema of that custom resource's spec etc."""
    documents: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return schemas_of(documents)


def schemas_of(crds: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The same, from CustomResourceDefinition objects (e.g. those a chart renders)."""
    schemas = {}
    for crd in crds:
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            # metadata is the API server's own ObjectMeta, not part of the CRD schema.
            schema["properties"]["metadata"] = {"type": "object"}
            schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def validate(obj: dict[str, Any], schemas: dict[tuple[str, str], dict[str, Any]]) -> None:
    jsonschema.validate(obj, schemas[(obj["apiVersion"], obj["kind"])])
