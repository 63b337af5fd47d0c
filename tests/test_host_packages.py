"""`make node` installs every host program the real-node fixture runs, from one list.

A fresh CI machine once lacked `nft`: the build's package list and the fixture's check had drifted
apart, and the real-node test skipped. Both now read tools/node/host-packages.tsv; these tests
check that the build script takes its packages from there and that every program the node's
modules run is provided by a listed package.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.engine import node
from tests.harness import ROOT

BUILD = ROOT / "tools" / "node" / "build.sh"
# The modules that run host programs while the node starts, runs and is taken apart.
NODE_MODULES = (ROOT / "tests" / "engine" / "host.py", ROOT / "tests" / "engine" / "node.py")
RUNNERS = {"_run", "_quiet", "run", "Popen", "check_call", "check_output"}


def _literal_program(arg: ast.expr, lists: dict[str, ast.List]) -> str | None:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.List) and arg.elts:
        first = arg.elts[0]
        if isinstance(first, ast.Starred) and isinstance(first.value, ast.Name):
            named = lists.get(first.value.id)
            return _literal_program(named, lists) if named else None
        return _literal_program(first, lists)
    return None


def _programs_run(path: Path) -> set[str]:
    """Programs named literally where the module runs a command (its own helpers, subprocess,
    or Processes.start(name, program, ...))."""
    tree = ast.parse(path.read_text())
    lists = {
        target.id: stmt.value
        for stmt in ast.walk(tree)
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.List)
        for target in stmt.targets
        if isinstance(target, ast.Name)
    }
    programs: set[str] = set()
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or not call.args:
            continue
        func = call.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name == "start" and len(call.args) > 1:
            program = _literal_program(call.args[1], lists)
        elif name in RUNNERS:
            program = _literal_program(call.args[0], lists)
        else:
            continue
        if program is not None:
            programs.add(program)
    return programs


def test_every_program_the_node_runs_comes_from_a_listed_package() -> None:
    provided = {item for _, provides in node.host_packages() for item in provides}
    run = set().union(*(_programs_run(module) for module in NODE_MODULES))
    # Our own builds (kubelet, kube-proxy, ...) are run by path, not by name.
    assert {"nft", "iptables-save", "ip", "containerd", "skopeo", "ctr"} <= run
    assert run - provided == set(), "add the Debian package to tools/node/host-packages.tsv"


def test_make_node_installs_exactly_the_listed_packages() -> None:
    """The build script's own line that reads the list, run as the script runs it."""
    line = next(
        text for text in BUILD.read_text().splitlines() if text.startswith("mapfile -t packages")
    )
    script = f'here={BUILD.parent}\n{line}\nprintf "%s\\n" "${{packages[@]}}"'
    listed = subprocess.run(
        ["bash", "-c", script], check=True, capture_output=True, text=True
    ).stdout.split()
    assert listed == [package for package, _ in node.host_packages()]
    assert "nftables" in listed
    assert "apt-get install" in BUILD.read_text()
    assert BUILD.read_text().count("packages=(") == 0, "one list: tools/node/host-packages.tsv"


def test_the_fixture_names_the_package_of_a_missing_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        "tests.engine.node.shutil.which", lambda name: None if name == "nft" else "/bin/x"
    )
    assert "nft (Debian package nftables)" in node.missing()
