"""The README's config reference table, from the schema.

`python -m infra.config_docs` prints it; `python -m infra.config_docs --write README.md` puts
it between the README's config-table markers (what `make config-table` runs).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from components import config as c


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


MARKERS = re.compile(r"(<!-- config-table:start -->\n).*?(\n<!-- config-table:end -->)", re.S)


def with_table(readme: str) -> str:
    """`readme` with the table between its markers replaced by the current one."""
    return MARKERS.sub(lambda m: m.group(1) + table() + m.group(2), readme, count=1)


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--write"]:
        path = Path(argv[2])
        path.write_text(with_table(path.read_text()))
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
