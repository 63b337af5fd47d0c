"""The configuration reference table (docs/configuration.md), from the schema.

`python -m infra.config_docs` prints it; `make config-table` puts it in docs/configuration.md's
`config-table` block. `make lint` fails when the block differs from the schema
(infra/docs_check.py).
"""

from __future__ import annotations

from typing import Any

from components import config as c

BLOCK = "config-table"


def _show(value: Any) -> str:
    if value is c.REQUIRED:
        return "**required**"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if value == [] or value == {}:
        return "[]" if value == [] else "{}"
    return f"`{value}`"


def _rows(path: str, qualifier: str, model: type[Any]) -> list[str]:
    rows = []
    for name, field in c.fields_of(model).items():
        # `kind` is in the section title; nested blocks get rows of their own.
        if name == "kind" or c.is_block(field):
            continue
        key = f"{path}.{name}" if path else name
        defaults = " | ".join(_show(c.field_default(model, name, env)) for env in c.ENVIRONMENTS)
        description = (field.description or "") + (f" ({qualifier})" if qualifier else "")
        rows.append(f"| `{key}` | {defaults} | {description} |")
    return rows


def table() -> str:
    envs = c.ENVIRONMENTS
    lines = [
        "| key | " + " | ".join(envs) + " | description |",
        "|---|" + "---|" * len(envs) + "---|",
    ]
    for path, qualifier, model in c.sections():
        lines += _rows(path, qualifier, model)
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
