"""pydantic's errors in the schema's own words: the key, the value, what is allowed.

No message may show a regular expression, a class name or pydantic's phrasing, so each error
type the schema can raise is translated here; the rest say where the allowed values are listed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

_WHOLE_NUMBER = "allowed: a whole number"
_BY_TYPE = {
    "int_type": _WHOLE_NUMBER,
    "int_parsing": _WHOLE_NUMBER,
    "int_from_float": _WHOLE_NUMBER,
    "float_type": "allowed: a number",
    "float_parsing": "allowed: a number",
    "bool_type": "allowed: true or false",
    "bool_parsing": "allowed: true or false",
    "string_type": "allowed: a text",
    "list_type": "allowed: a list",
    "tuple_type": "allowed: a list",
    "dict_type": "allowed: a block of keys and values",
    "model_type": "allowed: a block of keys and values",
    "model_attributes_type": "allowed: a block of keys and values",
    "dataclass_type": "allowed: a block of keys and values",
    "dataclass_exact_type": "allowed: a block of keys and values",
    "none_required": "allowed: leave it out",
}


def _count(n: int, value: Any) -> str:
    if isinstance(value, str):
        return f"{n} character" + ("" if n == 1 else "s")
    return f"{n} entr" + ("y" if n == 1 else "ies")


def _length(kind: str, ctx: Mapping[str, Any], value: Any) -> str:
    if kind == "too_short":
        return f"is too short; allowed: at least {_count(int(ctx.get('min_length', 1)), value)}"
    return f"is too long; allowed: at most {_count(int(ctx.get('max_length', 0)), value)}"


_BOUNDS = {
    "greater_than_equal": ("ge", "{} or more"),
    "greater_than": ("gt", "more than {}"),
    "less_than_equal": ("le", "{} or less"),
    "less_than": ("lt", "less than {}"),
}


def allowed_for(kind: str, message: str, ctx: Mapping[str, Any], value: Any) -> str:
    """What to tell the user for one pydantic error (after the key and the value)."""
    if kind in ("value_error", "assertion_error"):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        return "allowed: " + words.format(ctx.get(name))
    if kind == "literal_error":
        return f"allowed: {ctx.get('expected')}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"allowed: {ctx.get('expected_tags')}"
    if kind in ("too_short", "too_long"):
        return _length(kind, ctx, value)
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    return "is not allowed here; allowed: see this key in docs/configuration.md"


def near_miss(name: str, allowed: list[str]) -> str | None:
    """The allowed key a misspelt one most likely meant (databse -> database)."""
    tail = name.replace(":", ".").rsplit(".", 1)[-1]
    for candidate in (name, name.lower(), tail, tail.lower().replace("-", "_")):
        if candidate in allowed and candidate != name:
            return candidate
        close = difflib.get_close_matches(candidate, allowed, n=1, cutoff=0.75)
        if close:
            return close[0]
    return None
