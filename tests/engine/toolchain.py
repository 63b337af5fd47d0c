"""The Pulumi engine that tools/engine/build.sh builds, driven by the Automation API."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.harness import ROOT

ENGINE_ROOT = ROOT / ".tools" / "engine"
ENGINE_BIN = ENGINE_ROOT / "bin"
REQUIRED = ("pulumi", "pulumi-language-python", "pulumi-language-python-exec")


# The language host from sdk v3.79.0, behind our shim in bin/ (tools/engine/langshim).
LANGUAGE_HOST = ENGINE_ROOT / "libexec" / "pulumi-language-python"


def require_engine() -> None:
    missing = [name for name in REQUIRED if not (ENGINE_BIN / name).exists()]
    missing += [] if LANGUAGE_HOST.exists() else ["libexec/pulumi-language-python"]
    if missing:
        pytest.skip(f"engine toolchain not built ({', '.join(missing)}): run `make engine`")


def engine_env(home: Path, extra_path: Sequence[Path] = ()) -> dict[str, str]:
    """No downloads, no update checks, our binaries first on PATH, state in a temp dir."""
    path = [*map(str, extra_path), str(ENGINE_BIN), str(Path(sys.executable).parent)]
    return {
        "PATH": os.pathsep.join([*path, os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(home / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{home / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "engine-test-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # The language host reads the interpreter from here (the project's venv).
        "PULUMI_PYTHON_CMD": sys.executable,
        # Empty is unset to Python: the tests see what a shell without it sees (the policy
        # pack's port announcement is buffered then; the language shim makes it unbuffered).
        "PYTHONUNBUFFERED": "",
    }


def copy_project(dest: Path) -> Path:
    """The project as `pulumi` sees it, in a temp dir so stack files in the repo stay untouched."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "infra", "components", "stacks"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def workspace_options(home: Path, extra_path: Sequence[Path] = ()) -> auto.LocalWorkspaceOptions:
    """`extra_path`: directories searched before everything else (stand-in executables)."""
    env = engine_env(home, extra_path)
    (home / "state").mkdir(parents=True, exist_ok=True)
    return auto.LocalWorkspaceOptions(
        env_vars=env,
        pulumi_home=env["PULUMI_HOME"],
        pulumi_command=auto.PulumiCommand(root=str(ENGINE_ROOT)),
    )


def exported_state(stack: auto.Stack) -> dict[str, Any]:
    """`pulumi stack export` as a user runs it. (Stack.export_stack adds --show-secrets.)"""
    workspace = stack.workspace
    assert isinstance(workspace, auto.LocalWorkspace)
    result = workspace.pulumi_command.run(
        ["stack", "export", "--stack", stack.name, "--non-interactive"],
        cwd=workspace.work_dir,
        additional_env=workspace.env_vars,
    )
    state: dict[str, Any] = json.loads(result.stdout)["deployment"]
    return state


def managed_types(stack: auto.Stack) -> list[str]:
    """The types of the resources the stack's state still holds, besides the Stack itself."""
    deployment = stack.export_stack().deployment
    assert deployment is not None
    resources = deployment.get("resources") or []
    return [r["type"] for r in resources if r["type"] != "pulumi:pulumi:Stack"]
