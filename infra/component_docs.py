"""docs/architecture.md's generated parts, read from the code: each component's inputs and
outputs (from its arguments dataclass's documented fields and its declared outputs), and
CONTRIBUTING.md's layout tree (from each module's docstring).

`make architecture-docs` rewrites them; `make lint` (infra/docs_check.py) fails when they are
stale.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "components"
LAYERS = ("shared", "infrastructure", "stores", "workload")
# The composition root's component, documented beside the library's.
COMPOSITION = ("infra.platform",)
# The layout tree: file names in the first column, their summaries wrapped to the width.
NAME_COLUMN, WIDTH = 48, 100


def _modules(package_dir: Path) -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in package_dir.rglob("*.py")
        if p.name != "__init__.py"
    )


def attribute_docs(cls: type) -> dict[str, str]:
    """Each annotated attribute's docstring: the string statement right after it."""
    tree = ast.parse(inspect.getsource(cls))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    docs: dict[str, str] = {}
    for stmt, after in zip(node.body, [*node.body[1:], None], strict=True):
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            docs[stmt.target.id] = " ".join(str(after.value.value).split())
    return docs


def component_modules() -> list[str]:
    """Where components are defined: the library's layers (not its schema), then the
    composition root's."""
    return [m for layer in LAYERS for m in _modules(LIBRARY / layer)] + list(COMPOSITION)


def components() -> list[type]:
    """Every Component class of the library (by layer) and the composition root's."""
    from components.shared.base import Component

    found: list[type] = []
    for module_name in component_modules():
        module = importlib.import_module(module_name)
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Component) and cls.__module__ == module_name and cls is not Component
        ]
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(annotation: Any) -> str:
    shown = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return f"`{_cell(str(shown))}`"


def _default(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        return "—" if field.default is None else f"`{_cell(repr(field.default))}`"
    if field.default_factory is not dataclasses.MISSING:
        return f"`{_cell(repr(field.default_factory()))}`"
    return "**required**"


def argument_classes(cls: type) -> list[type]:
    """The dataclasses the constructor takes (its `args`, or none for the platform)."""
    init = vars(cls).get("__init__")
    if init is None:  # an abstract base: its subclasses take the arguments
        return []
    parameters = inspect.signature(init).parameters.values()
    hints = inspect.get_annotations(init, eval_str=True)
    return [
        hints[p.name]
        for p in parameters
        if p.name in hints and dataclasses.is_dataclass(hints[p.name])
    ]


def _inputs(args_class: type) -> list[str]:
    docs = attribute_docs(args_class)
    rows = [
        f"| `{f.name}` | {_type(f.type)} | {_default(f)} | {_cell(docs.get(f.name, ''))} |"
        for f in dataclasses.fields(args_class)
    ]
    return [
        f"Inputs (`{args_class.__name__}`):",
        "",
        "| argument | type | default | what |",
        "|---|---|---|---|",
        *rows,
    ]


def _outputs(cls: type) -> list[str]:
    from components.shared.base import declared_outputs

    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith(("components.", "infra.")):
            docs.update(attribute_docs(klass))
    hints = {
        name: hint
        for klass in reversed(cls.__mro__)
        for name, hint in vars(klass).get("__annotations__", {}).items()
    }
    rows = [
        f"| `{name}` | {_type(hints[name])} | {_cell(docs.get(name, ''))} |"
        for name in declared_outputs(cls)
    ]
    return ["Outputs:", "", "| output | type | what |", "|---|---|---|", *rows]


def _section(cls: type) -> list[str]:
    from components.shared.base import type_token

    path = Path(inspect.getfile(cls)).relative_to(ROOT)
    summary = " ".join((inspect.getdoc(cls) or "").split("\n\n")[0].split())
    lines = [f"### {cls.__name__}", "", f"`{type_token(cls)}` in `{path}`. {summary}", ""]
    for args_class in argument_classes(cls):
        lines += [*_inputs(args_class), ""]
    return [*lines, *_outputs(cls), ""]


def component_tables() -> str:
    lines: list[str] = []
    for cls in components():
        lines += _section(cls)
    return "\n".join(lines).rstrip("\n") + "\n"


def _summary(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return " ".join(doc.split("\n\n")[0].split()).split(". ")[0].rstrip(".")


def layout() -> str:
    """components/ and infra/ as a tree, each module with its docstring's first sentence."""
    lines = ["```"]
    for top in ("components", "infra"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_dir() or path.suffix != ".py" or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(ROOT)
            if path.name == "__init__.py" and rel.parent.parts[-1] != "config":
                continue
            shown = str(rel.parent) + "/" if path.name == "__init__.py" else str(rel)
            wrapped = textwrap.wrap(_summary(path), WIDTH - NAME_COLUMN - 1) or [""]
            lines.append(f"{shown:<{NAME_COLUMN}} {wrapped[0]}")
            lines += [f"{'':<{NAME_COLUMN}} {more}" for more in wrapped[1:]]
    lines.append("```")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(component_tables())
