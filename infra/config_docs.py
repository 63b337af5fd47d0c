"""The configuration reference table (docs/configuration.md), from the schema.

`python -m infra.config_docs` prints it; `python -m infra.config_docs --write
docs/configuration.md` puts it in that file's `config-table` block (what `make config-table`
runs). `make lint` fails when the block differs from the schema (infra/docs_check.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from components import config as c
from infra.docs_check import with_block

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


def with_table(text: str) -> str:
    """`text` with its config-table block holding the current table."""
    return with_block(text, BLOCK, table())


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--write"]:
        path = Path(argv[2])
        path.write_text(with_table(path.read_text()))
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
