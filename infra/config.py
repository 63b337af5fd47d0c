"""Reading the running stack's config from the Pulumi engine into the typed schema."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from components.config import PROJECT, ConfigError, PlatformConfig, parse_config
from components.config.secrets import plain_paths

STACKS = Path(__file__).resolve().parent.parent / "stacks"  # Pulumi.yaml's stackConfigDir


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


def _squashed(namespace: str) -> str:
    return re.sub(r"[^a-z0-9]", "", namespace.lower())


def misspelt_namespace_problems(names: Iterable[str]) -> list[str]:
    """Keys whose namespace is a near miss of the project's (mlflow_platform:ingress): Pulumi
    hands them to no one, so the stack would silently run without them. Other namespaces
    (gcp:, kubernetes:, pulumi:) belong to providers and are left alone."""
    problems = []
    for name in names:
        namespace, colon, rest = name.partition(":")
        if not colon or namespace == PROJECT:
            continue
        close = difflib.SequenceMatcher(None, namespace.lower(), PROJECT).ratio() >= 0.8
        if close or _squashed(namespace) == _squashed(PROJECT):
            problems.append(
                f"{name}: unknown namespace {namespace!r}, so nothing reads this key; did you "
                f"mean {PROJECT}:{rest}? allowed: keys under {PROJECT}: (the project's name "
                "in Pulumi.yaml)"
            )
    return problems


def plain_in_stack_file(stack_file: Mapping[str, Any]) -> set[str]:
    """The project's keys a stack file's `config:` holds in clear text, as dotted paths."""
    return plain_paths(project_config(stack_file))


def _stack_file(stack: str) -> dict[str, Any]:
    """The stack file's `config:`, or nothing when the config comes from elsewhere."""
    path = STACKS / f"Pulumi.{stack}.yaml"
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    config = data.get("config") if isinstance(data, dict) else None
    return config if isinstance(config, dict) else {}


def parse_engine_config(
    all_config: Mapping[str, Any],
    stack: str,
    secret_keys: Iterable[str] = (),
    stack_file: Mapping[str, Any] | None = None,
) -> PlatformConfig:
    """The whole engine config map (every namespace) into the schema, or one ConfigError.

    `secret_keys` are the engine's secret keys, with their namespace; `stack_file` is the
    stack file's `config:` (default: read from stacks/), which says exactly which values are
    `secure:`."""
    prefix = f"{PROJECT}:"
    ours = [k[len(prefix) :] for k in secret_keys if k.startswith(prefix)]
    plain = plain_in_stack_file(_stack_file(stack) if stack_file is None else stack_file)
    misspelt = misspelt_namespace_problems(all_config)
    try:
        cfg = parse_config(
            project_config(all_config), stack=stack, secret_keys=ours, plain_in_stack_file=plain
        )
    except ConfigError as error:
        raise ConfigError(misspelt + error.problems) from None
    if misspelt:
        raise ConfigError(misspelt)
    return cfg


def load_config() -> PlatformConfig:
    """Read and validate the running stack's config; nothing is registered before this."""
    import pulumi
    from pulumi.runtime.config import (
        CONFIG,
        get_config_env,
        get_config_secret_keys_env,
        is_config_secret,
    )

    all_config = {**get_config_env(), **CONFIG.get()}
    secret = set(get_config_secret_keys_env()) | {k for k in all_config if is_config_secret(k)}
    return parse_engine_config(all_config, pulumi.get_stack(), secret)
