"""The base of every config block, the environments, and the one AuthorizedNetwork type."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass as plain_dataclass
from typing import Any, ClassVar, Literal

from pulumi.errors import RunError
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator
from pydantic.dataclasses import dataclass

from components.config.values import Cidr

PROJECT = "mlflow-platform"

Environment = Literal["local", "dev", "staging", "prod"]
ENVIRONMENTS: tuple[Environment, ...] = ("local", "dev", "staging", "prod")
# field name -> environment -> the default that environment gets
EnvDefaults = Mapping[str, Mapping[Environment, Any]]


def key(path: str) -> str:
    """The full config key of a dotted path, as a user types it."""
    return f"{PROJECT}:{path}"


class ConfigError(RunError, ValueError):
    """A stack configuration that must not be deployed; `problems` holds one line per key.

    A `pulumi.RunError`, so `pulumi preview`/`up` print the message alone, without a traceback.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack configuration:\n  - " + "\n  - ".join(problems))


class Described(str):
    """A description standing in for a value a message must not show (a block, a secret)."""

    def __repr__(self) -> str:
        return str(self)


@plain_dataclass(frozen=True)
class Problem:
    """A value a rule refuses: the field (dotted, within its block), the value, what is allowed."""

    field: str
    value: Any
    allowed: str

    def line(self, prefix: str = "") -> str:
        path = f"{prefix}.{self.field}" if prefix else self.field
        return f"{key(path)} = {self.value!r}: {self.allowed}"


class Section(BaseModel):
    """A config block: unknown keys are errors; `env_defaults` fill what the stack leaves out.
    Rules between fields of one block go in `problems`, so each message names its field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env_defaults: ClassVar[EnvDefaults] = {}

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

    def problems(self) -> list[Problem]:
        """What this block refuses across its own fields (after each field is valid)."""
        return []

    def was_set(self, name: str) -> bool:
        """Whether the stack file set `name` itself (not a default)."""
        return name in self.model_fields_set


# A validated dataclass rather than a Section: the components take it as their argument too
# (`AuthorizedNetwork("office", "203.0.113.0/24")`), so the schema and the components share it.
@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class AuthorizedNetwork:
    """A named IPv4 range allowed to reach the database or the GKE control plane."""

    name: str = Field(description="Label shown in the console.")
    cidr: Cidr = Field(description="IPv4 CIDR block allowed to connect.")


# The widest block an allowlist may add up to: a /8 is already 16.7 million addresses.
WIDEST_AUTHORIZED_PREFIX = 8


def internet_wide(cidrs: Iterable[str]) -> list[ipaddress.IPv4Network]:
    """The blocks, merged, that are wider than a /8: most of the internet, not an office
    (0.0.0.0/1 and 128.0.0.0/1 merge into 0.0.0.0/0)."""
    merged = ipaddress.collapse_addresses(ipaddress.IPv4Network(cidr) for cidr in cidrs)
    return [block for block in merged if block.prefixlen < WIDEST_AUTHORIZED_PREFIX]


def internet_wide_problems(field: str, cidrs: list[str]) -> list[Problem]:
    return [
        Problem(
            field,
            cidrs,
            f"together they admit {block} ({block.num_addresses:,} addresses), the internet "
            f"at large; allowed: specific ranges, each /{WIDEST_AUTHORIZED_PREFIX} or smaller",
        )
        for block in internet_wide(cidrs)
    ]
