"""From the engine's raw mapping to a validated `PlatformConfig`, or one clean `ConfigError`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from pydantic import ValidationError

from components.config.introspect import Model, fields_of, kind_models, kinds_of, models_in
from components.config.messages import allowed_for, near_miss
from components.config.platform import PlatformConfig
from components.config.rules import cross_section_problems
from components.config.secrets import (
    SECRET_SETTINGS,
    SecretMarks,
    clear_text_problems,
    looks_secret,
    unwrap_markers,
)
from components.config.section import ENVIRONMENTS, ConfigError, Described, Section, key


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the block holding `loc[-1]` accepts (loc as pydantic reports it)."""
    model: Model | None = PlatformConfig
    for part in loc[:-1]:
        if model is None and part in kind_models():
            model = kind_models()[part]
            continue
        if isinstance(part, int) or model is None:
            continue
        field_info = fields_of(model).get(str(part))
        if field_info is None:
            return []
        models = models_in(field_info.annotation)
        model = models[0] if len(models) == 1 else None
    return sorted(fields_of(model)) if model is not None else []


def _shown(path: str, value: Any, unknown: bool = False) -> Any:
    """The value as a message may show it: never a secret setting's, nor an unknown key's
    whose name says it holds one (a misspelt client_secret)."""
    secret = any(fnmatchcase(path, pattern) for pattern in SECRET_SETTINGS)
    if secret or (unknown and looks_secret(path.rsplit(".", 1)[-1])):
        return Described("(not shown)")
    return value


def _unknown_key(path: str, error: Mapping[str, Any]) -> str:
    allowed = _allowed_keys(tuple(error["loc"]))
    guess = near_miss(path.rsplit(".", 1)[-1], allowed)
    hint = f"did you mean {guess!r}? " if guess else ""
    return (
        f"{key(path)} = {_shown(path, error['input'], unknown=True)!r}: unknown key; {hint}"
        f"allowed keys: {', '.join(allowed)}"
    )


def _format_error(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    # Discriminated unions put the tag into the location (database.cloudsql.tier): drop it.
    path = ".".join(part for i, part in enumerate(loc) if not (i == 1 and part in kind_models()))
    kind = error["type"]
    if kind == "missing":
        return f"{key(path)} is required"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return _unknown_key(path, error)
    if kind == "union_tag_not_found":
        return f"{key(path + '.kind')} is required; allowed: {_kinds_at(loc[0])}"
    value = error["input"]
    if kind == "union_tag_invalid":
        value = value.get("kind") if isinstance(value, dict) else value
        path += ".kind"
    allowed = allowed_for(kind, str(error["msg"]), error.get("ctx") or {}, value)
    return f"{key(path)} = {_shown(path, value)!r}: {allowed}"


def _kinds_at(section: str) -> str:
    field = fields_of(PlatformConfig)[section]
    return ", ".join(repr(k) for model in models_in(field.annotation) for k in kinds_of(model))


def block_problems(block: Any, path: str = "") -> list[str]:
    """Each block's own cross-field rules, depth first, with the full key of each field."""
    if isinstance(block, (list, tuple)):
        return [p for i, item in enumerate(block) for p in block_problems(item, f"{path}.{i}")]
    if not isinstance(block, Section | PlatformConfig):
        return []
    problems = [p.line(path) for p in block.problems()] if isinstance(block, Section) else []
    for name in type(block).model_fields:
        problems += block_problems(getattr(block, name), f"{path}.{name}" if path else name)
    return problems


def parse_config(
    raw: Mapping[str, Any],
    stack: str | None = None,
    secret_keys: Iterable[str] = (),
    plain_in_stack_file: Iterable[str] = (),
) -> PlatformConfig:
    """Validate a mapping of `mlflow-platform:` keys (without the prefix) into the schema.

    `stack` is the stack's name (default: the environment's): the names the platform derives
    from it are checked too, and a stack named prod or prod-* gets prod's rules.
    `secret_keys` are the keys (without the prefix) the engine holds as secrets; a value may
    also carry the stack file's own `{secure: value}` marker. A secret setting that is neither,
    or that `plain_in_stack_file` (dotted paths) names, is refused: it would sit in clear text
    in the stack file."""
    marks = SecretMarks(top_level=frozenset(secret_keys), plain=frozenset(plain_in_stack_file))
    raw = {name: unwrap_markers(value, name, marks) for name, value in raw.items()}
    environment = raw.get("environment")
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            [f"{key('environment')} = {environment!r}: allowed: {', '.join(ENVIRONMENTS)}"]
        )
    clear_text = clear_text_problems(raw, marks)
    try:
        cfg = PlatformConfig.model_validate(raw, context={"environment": environment})
    except ValidationError as exc:
        raise ConfigError(clear_text + [_format_error(e) for e in exc.errors()]) from None
    problems = block_problems(cfg) + cross_section_problems(cfg, stack or str(environment))
    if clear_text or problems:
        raise ConfigError(clear_text + problems)
    return cfg
