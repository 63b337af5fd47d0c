"""Read the schema's own structure: which blocks exist, which `kind` picks which model, and
each field's default per environment. The error messages and the README table use these."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from components.config.platform import PlatformConfig
from components.config.section import Environment

Model = type[Any]  # a BaseModel or a pydantic dataclass: both carry __pydantic_fields__


class Required:
    """The default of a field that has none: the stack must set it."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = Required()


def fields_of(model: Model) -> dict[str, FieldInfo]:
    fields: dict[str, FieldInfo] = model.__pydantic_fields__
    return fields


def models_in(annotation: Any) -> list[Model]:
    """The config blocks an annotation refers to (through Optional, unions and lists)."""
    if isinstance(annotation, type) and (
        issubclass(annotation, BaseModel) or hasattr(annotation, "__pydantic_fields__")
    ):
        return [annotation]
    return [m for arg in get_args(annotation) for m in models_in(arg)]


def is_block(field: FieldInfo) -> bool:
    """A nested block of its own (not a list of entries)."""
    return bool(models_in(field.annotation)) and get_origin(field.annotation) is not list


def kinds_of(model: Model) -> tuple[str, ...]:
    """The `kind` values that select `model` in a discriminated union (none for plain blocks)."""
    field = fields_of(model).get("kind")
    return tuple(get_args(field.annotation)) if field is not None else ()


@cache
def kind_models() -> dict[str, Model]:
    """Every `kind` value of the stack's unions and the model it selects."""
    return {
        kind: model
        for field in fields_of(PlatformConfig).values()
        for model in models_in(field.annotation)
        for kind in kinds_of(model)
    }


def sections(model: Model = PlatformConfig, path: str = "") -> Iterator[tuple[str, str, Model]]:
    """Every block, depth first, as (dotted path, kind qualifier or '', model)."""
    kinds = kinds_of(model)
    yield path, f"kind: {kinds[0]}" if kinds else "", model
    for name, field in fields_of(model).items():
        if is_block(field):
            for child in models_in(field.annotation):
                yield from sections(child, f"{path}.{name}" if path else name)


def fields_except(section: BaseModel, *names: str) -> dict[str, Any]:
    """A config block's fields as arguments (nested values kept as they are), less `kind` and
    `names`: what the components' argument dataclasses take by the same names."""
    return {
        name: getattr(section, name)
        for name in type(section).model_fields
        if name not in {"kind", *names}
    }


def chart_args(chart: BaseModel) -> dict[str, Any]:
    """A chart block (repository, name, version, path) as `chart_*` arguments."""
    return {f"chart_{name}": value for name, value in fields_except(chart).items()}


def field_default(model: Model, name: str, environment: Environment | None = None) -> Any:
    """The value a stack gets when it leaves `name` out (REQUIRED when it may not)."""
    per_env = getattr(model, "env_defaults", {}).get(name, {})
    if environment is not None and environment in per_env:
        return per_env[environment]
    field = fields_of(model)[name]
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return REQUIRED


def defaults_from(model: Model, environment: Environment | None = None) -> Callable[[str], Any]:
    """`default_of` for one block: `_sql = defaults_from(CloudSqlConfig)`, then `_sql("tier")`."""
    return lambda name: default_of(model, name, environment)


def default_of(model: Model, name: str, environment: Environment | None = None) -> Any:
    """`field_default` for code that needs a value: the components' argument defaults."""
    value = field_default(model, name, environment)
    if value is REQUIRED:
        raise LookupError(f"{model.__name__}.{name} has no default for {environment}")
    return value
