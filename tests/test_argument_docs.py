"""Every field a component takes is documented where it is declared: an attribute docstring (a
string right after the field) on each field of every argument dataclass in components/ (the
schema in components/config/ documents its keys with `Field(description=...)` instead). The
architecture docs build each component's table of inputs from these strings."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tests.harness import ROOT

# Dataclasses of components/ that no component takes, each with why it is not an argument.
NOT_ARGUMENTS = {
    "AuthSecret": "MlflowServer's handle on the auth Secret it creates itself",
    "ContainerEnvironment": "where MlflowServer's pod builders read the settings it created",
    "PodParts": "the pod template's parts, passed between MlflowServer's own builders",
    "Scope": "the name, namespace, labels and options of MlflowServer's own objects",
}


@dataclass(frozen=True)
class DataClass:
    node: ast.ClassDef
    path: Path

    @property
    def name(self) -> str:
        return self.node.name

    def fields(self) -> list[tuple[int, ast.AnnAssign]]:
        """(index in the body, statement) of each field: annotated names that are not ClassVar."""
        return [
            (i, stmt)
            for i, stmt in enumerate(self.node.body)
            if isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and "ClassVar" not in ast.unparse(stmt.annotation)
        ]

    def undocumented(self) -> list[str]:
        missing = []
        body = self.node.body
        for i, stmt in self.fields():
            doc = body[i + 1] if i + 1 < len(body) else None
            documented = (
                isinstance(doc, ast.Expr)
                and isinstance(doc.value, ast.Constant)
                and isinstance(doc.value.value, str)
                and doc.value.value.strip() != ""
            )
            if not documented:
                where = f"{self.path.relative_to(ROOT)}:{stmt.lineno}"
                missing.append(f"{where} {self.name}.{ast.unparse(stmt.target)}")
        return missing


def _is_dataclass(node: ast.ClassDef) -> bool:
    return any(
        ast.unparse(d.func if isinstance(d, ast.Call) else d).split(".")[-1] == "dataclass"
        for d in node.decorator_list
    )


def _library_modules() -> list[Path]:
    return sorted(
        p for p in (ROOT / "components").rglob("*.py") if "config" not in p.relative_to(ROOT).parts
    )


def dataclasses_in_components() -> dict[str, DataClass]:
    found: dict[str, DataClass] = {}
    for path in _library_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and _is_dataclass(node):
                assert node.name not in found, f"two dataclasses named {node.name}"
                found[node.name] = DataClass(node, path)
    return found


def _names_in(annotation: ast.expr) -> set[str]:
    """Every class a type annotation mentions (`metrics.Scraping | None` -> Scraping, None...)."""
    return {
        n.id if isinstance(n, ast.Name) else n.attr
        for n in ast.walk(annotation)
        if isinstance(n, ast.Name | ast.Attribute)
    }


def _constructor_parameter_types() -> set[str]:
    """The classes any `__init__` in components/ (outside the schema) takes a parameter of."""
    names: set[str] = set()
    for path in _library_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "__init__":
                for arg in [*node.args.args, *node.args.kwonlyargs]:
                    if arg.annotation is not None:
                        names |= _names_in(arg.annotation)
    return names


def argument_classes() -> dict[str, DataClass]:
    """The `*Args` dataclasses, what a component's constructor takes, and, transitively, every
    dataclass one of their fields holds (DatabaseEndpoint, Scraping, ExternalAuth, ...)."""
    every = dataclasses_in_components()
    taken = _constructor_parameter_types() & set(every)
    reached = {name for name in every if name.endswith("Args")} | taken
    todo = list(reached)
    while todo:
        for _, stmt in every[todo.pop()].fields():
            for name in _names_in(stmt.annotation) & set(every) - reached:
                reached.add(name)
                todo.append(name)
    return {name: every[name] for name in sorted(reached)}


def test_the_argument_classes_are_found() -> None:
    """A guard on the finder itself: a walk that found nothing would pass vacuously."""
    found = set(argument_classes())
    assert {
        "MlflowServerArgs",
        "GkeClusterArgs",
        "GkeNodePoolArgs",
        "DatabaseEndpoint",
        "Scraping",
        "ExternalAuth",
        "ControlPlaneSources",
        "ArtifactVolume",
        "ContainerResources",
        "BasicAuthArgs",
    } <= found
    assert sum(len(cls.fields()) for cls in argument_classes().values()) >= 200


def test_every_dataclass_is_an_argument_or_listed_with_its_reason() -> None:
    """A new dataclass in components/ is documented as an argument unless it is listed above,
    and nothing a component takes may hide in that list."""
    every = set(dataclasses_in_components())
    arguments = set(argument_classes())
    assert every - arguments == set(NOT_ARGUMENTS), (
        "dataclasses that no component takes, not listed in NOT_ARGUMENTS (or listed but gone): "
        f"{sorted((every - arguments) ^ set(NOT_ARGUMENTS))}"
    )
    assert not arguments & set(NOT_ARGUMENTS), sorted(arguments & set(NOT_ARGUMENTS))


def test_every_argument_field_has_a_docstring() -> None:
    missing = [line for cls in argument_classes().values() for line in cls.undocumented()]
    assert not missing, (
        "argument fields without an attribute docstring (a string right after the field: what "
        "it means, its unit, what None or empty means, the config key that sets it):\n  "
        + "\n  ".join(missing)
    )
