"""The layout shows the architecture: components/ is a library in layers, each importing only
from the layers below it; infra/ composes it; no import cycle; small files; no file name twice."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from tests.harness import ROOT

MAX_MODULE_LINES = 400
# Lowest first. A module may import from its own layer and the ones before it.
LAYERS = (
    ("shared", ("components.shared", "components.config")),
    ("infrastructure", ("components.infrastructure",)),
    ("stores", ("components.stores",)),
    ("ingress", ("components.workload.metrics", "components.workload.ingress")),
    ("workload", ("components.workload",)),
    ("composition", ("infra",)),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PACKAGES = ("components", "infra")


def _sources() -> dict[str, Path]:
    """Every module, the two top packages' own `__init__` aside (only a docstring each)."""
    return {
        _module_name(p): p
        for top in PACKAGES
        for p in (ROOT / top).rglob("*.py")
        if "__pycache__" not in p.parts and _module_name(p) not in PACKAGES
    }


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports (a `from package import module` counts as the
    module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module in known:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & known
            found |= submodules or {node.module}
    return found


def import_graph() -> dict[str, set[str]]:
    sources = _sources()
    return {name: _imports(path, set(sources)) - {name} for name, path in sources.items()}


def layer_of(module: str) -> int:
    """The layer's index; the longest matching prefix decides (workload.ingress before
    workload)."""
    matches = [
        (len(prefix), index)
        for index, (_, prefixes) in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    assert matches, f"{module} is in no layer"
    return max(matches)[1]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each as the path that closes it (depth-first search)."""
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_top_packages_hold_no_code() -> None:
    for top in PACKAGES:
        body = ast.parse((ROOT / top / "__init__.py").read_text()).body
        assert all(isinstance(n, ast.Expr) for n in body), top


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_cycle_detection_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_each_layer_imports_only_from_itself_and_below() -> None:
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in import_graph().items()
        for target in targets
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "\n".join(upward)


def test_the_library_never_imports_the_program() -> None:
    graph = import_graph()
    assert not [
        m
        for m in graph
        if m.startswith("components") and any(t.startswith("infra") for t in graph[m])
    ]


def test_every_layer_has_modules() -> None:
    populated = {layer_of(m) for m in import_graph()}
    assert populated == set(range(len(LAYERS)))


def test_no_module_is_longer_than_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _sources().values()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_no_file_name_is_used_twice_in_the_library() -> None:
    names = Counter(p.name for p in (ROOT / "components").rglob("*.py") if p.name != "__init__.py")
    assert [n for n, count in names.items() if count > 1] == []
