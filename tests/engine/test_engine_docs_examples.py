"""Every `pulumi config set` example of the docs runs in the real CLI (CLI 3.259, `make engine`)
and stores what it says: the value at its key, a secret as a secret, `[n]` as a list.

The examples of one file run in the order a reader meets them, in a fresh stack of a scratch
project with a file backend (infra/docs_check.py finds them: code blocks, continuation lines,
inline code; `<placeholders>` and `$(...)` get sample values; the stack flag is ours).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.docs_check import documents
from infra.docs_examples import ConfigSetExample, config_set_examples
from tests.engine.toolchain import ENGINE_BIN, engine_env, require_engine

pytestmark = pytest.mark.engine

PROJECT = "mlflow-platform"
STACK = "docs"
DOCS = [doc for doc in documents() if config_set_examples(doc)]
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _pulumi(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENGINE_BIN / "pulumi"), *args],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,  # a missing value fails instead of waiting for a prompt
        capture_output=True,
        text=True,
        timeout=120,
    )


def _scratch_project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    env = {**os.environ, **engine_env(tmp_path)}
    (tmp_path / "state").mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
    created = _pulumi(project, env, "stack", "init", STACK, "--non-interactive")
    assert created.returncode == 0, created.stderr
    return project, env


def _text(value: Any) -> str:
    """A stored leaf as the CLI shows it: numbers and booleans as their text."""
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _stored_problems(project: Path, env: dict[str, str], example: ConfigSetExample) -> list[str]:
    """What `pulumi config get` says differs from what the example set."""
    flags = ["--path"] if example.path else []
    got = _pulumi(project, env, "config", "get", *flags, example.key, "--json", "-s", STACK)
    if got.returncode != 0:
        return [f"config get {example.key}: {got.stderr.strip()}"]
    stored = json.loads(got.stdout)
    problems = []
    if stored["value"] != example.value:
        problems.append(f"stored {stored['value']!r}, the example sets {example.value!r}")
    if example.secret and not stored["secret"]:
        problems.append("set with --secret but not stored as a secret")
    if example.path:
        problems += _shape_problems(project, env, example)
    return problems


def _shape_problems(project: Path, env: dict[str, str], example: ConfigSetExample) -> list[str]:
    """Walk the top-level key's object along the path: `[n]` must be a list, `.name` a map."""
    segments = [(name, index) for name, index in _SEGMENT.findall(example.key)]
    top = _pulumi(project, env, "config", "get", segments[0][0], "--json", "-s", STACK)
    node: Any = json.loads(top.stdout).get("objectValue")
    for name, index in segments[1:]:
        if index and not isinstance(node, list):
            return [f"{example.key}: [{index}] is not stored in a list ({node!r})"]
        if name and not isinstance(node, dict):
            return [f"{example.key}: .{name} is not stored in a mapping ({node!r})"]
        node = node[int(index)] if index else node.get(name)
    if _text(node) != example.value:
        return [f"{example.key}: the object holds {node!r}, not {example.value!r}"]
    return []


@pytest.mark.parametrize("doc", DOCS, ids=[doc.name for doc in DOCS])
def test_every_config_set_example_runs_in_the_real_cli(doc: Path, tmp_path: Path) -> None:
    require_engine()
    project, env = _scratch_project(tmp_path)
    failures = []
    examples = config_set_examples(doc)
    for example in examples:
        where = f"{doc.name}:{example.line}: {example.text}"
        result = _pulumi(project, env, "config", "set", "-s", STACK, *example.args)
        if result.returncode != 0:
            failures.append(f"{where}\n    {result.stderr.strip()}")
            continue
        failures += [f"{where}\n    {p}" for p in _stored_problems(project, env, example)]
    assert not failures, "\n".join(failures)
    assert examples


def test_the_docs_have_examples_for_the_cli() -> None:
    assert {doc.name for doc in DOCS} >= {"README.md"}
