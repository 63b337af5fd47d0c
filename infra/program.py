"""The program body, importable so tests run exactly what `pulumi up` runs."""

from __future__ import annotations

import pulumi

from components.platform import Platform
from infra.config import load_config


def run() -> Platform:
    cfg = load_config()  # raises before any resource is registered
    platform = Platform("mlflow", cfg, stack=pulumi.get_stack())
    pulumi.export("mlflow_url", platform.url)
    pulumi.export("namespace", platform.namespace)
    pulumi.export("kubeconfig", pulumi.Output.secret(platform.kubeconfig))
    pulumi.export("database", platform.database_address)
    pulumi.export("artifact_store", platform.artifact_store)
    pulumi.export("tracking_uri_hint", platform.tracking_uri_hint())
    return platform
