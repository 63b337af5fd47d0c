"""Every Kubernetes object a stack renders, as the API server would receive it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.config import PlatformConfig
from tests.harness import Capture, run_stack, secure, stack_config, with_auto_name, with_overrides

# Helm releases are rendered by Helm inside the provider; tests/manifests/charts.py renders them
# from the upstream charts with the real `helm`. Everything else is a plain Kubernetes object.
NOT_MANIFESTS = {"kubernetes:helm.sh/v3:Release"}


def integers(value: Any) -> Any:
    """The mock wire format carries numbers as doubles; Kubernetes wants integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integers(v) for v in value]
    return value


def kubernetes_objects(capture: Capture) -> list[dict[str, Any]]:
    objects = []
    for reg in capture.registrations:
        if reg.type.startswith("kubernetes:") and reg.custom and reg.type not in NOT_MANIFESTS:
            obj = with_auto_name(integers(reg.inputs), reg.name)
            assert "apiVersion" in obj and "kind" in obj, reg.urn
            objects.append(obj)
    return objects


def kubernetes_version(cfg: PlatformConfig) -> str:
    """The x.y.z schema version the stack targets."""
    major, minor = cfg.cluster.kubernetes_version.lstrip("v").split(".")[:2]
    return f"{major}.{minor}.0"


def write_manifests(objects: list[dict[str, Any]], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for obj in objects:
        meta = obj.get("metadata", {})
        name = f"{obj['kind']}-{meta.get('namespace', 'cluster')}-{meta['name']}.yaml".lower()
        path = directory / name
        path.write_text(yaml.safe_dump(obj, sort_keys=False))
        paths.append(path)
    return paths


# Stacks rendered beyond the shipped ones, as (stack file, overrides): what a stack may switch
# to must render valid objects too.
ALLOWLIST = ["203.0.113.0/24", "198.51.100.7/32"]
SERVICE_MONITOR = {
    "metrics__service_monitor": True,
    "metrics__service_monitor_labels": {"release": "prom"},
}
OIDC = {
    "mode": "oidc",
    "oidc": {
        "client_id": "123.apps.googleusercontent.com",
        "client_secret": secure("client-s3cret-value"),
        "allowed_email_domains": ["example.com"],
    },
}
F5 = {"ingress__controller": "f5-nginx"}
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "local-f5-nginx": ("local", F5),
    "prod-f5-nginx": ("prod", F5),
    "prod-allowlist": ("prod", {"ingress__allowed_source_ranges": ALLOWLIST}),
    "prod-f5-nginx-allowlist": ("prod", {**F5, "ingress__allowed_source_ranges": ALLOWLIST}),
    "local-service-monitor": ("local", SERVICE_MONITOR),
    "local-f5-nginx-service-monitor": ("local", {**F5, **SERVICE_MONITOR}),
    # The sign-in needs ingress-nginx's auth-url (F5's controller refuses auth.mode oidc).
    "prod-oidc": ("prod", {"auth": OIDC}),
}


def variant_config(name: str) -> dict[str, Any]:
    stack, overrides = VARIANTS[name]
    return with_overrides(stack_config(stack), **overrides)


def render_variant(name: str) -> Capture:
    return run_stack(VARIANTS[name][0], variant_config(name))
