"""Reading the running stack's config from the Pulumi engine into the typed schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from components.config import PROJECT, PlatformConfig, parse_config


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to the program as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def project_config(all_config: Mapping[str, Any]) -> dict[str, Any]:
    """This project's keys from the engine's flat `namespace:key` map."""
    prefix = f"{PROJECT}:"
    return {k[len(prefix) :]: _decode(v) for k, v in all_config.items() if k.startswith(prefix)}


def load_config() -> PlatformConfig:
    """Read and validate the running stack's config; nothing is registered before this."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config_env

    raw = project_config({**get_config_env(), **CONFIG.get()})
    return parse_config(raw, stack=pulumi.get_stack())
