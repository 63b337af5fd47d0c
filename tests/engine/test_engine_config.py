"""The real engine (CLI 3.259 + Python language host, built from Go modules) runs infra/."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from tests.engine.toolchain import copy_project, managed_types, require_engine, workspace_options

pytestmark = pytest.mark.engine


def test_engine_is_the_pinned_build(tmp_path: Path) -> None:
    require_engine()
    opts = workspace_options(tmp_path)
    workspace = auto.LocalWorkspace(
        work_dir=str(copy_project(tmp_path / "project")),
        pulumi_home=opts.pulumi_home,
        env_vars=opts.env_vars,
        pulumi_command=opts.pulumi_command,
    )
    assert workspace.pulumi_version == "3.259.0"


def test_bad_config_fails_in_the_real_engine_before_any_resource(tmp_path: Path) -> None:
    require_engine()
    project = copy_project(tmp_path / "project")
    local = yaml.safe_load((project / "stacks" / "Pulumi.local.yaml").read_text())
    local["config"]["mlflow-platform:cluster"]["cpus"] = 1
    (project / "stacks" / "Pulumi.broken.yaml").write_text(yaml.safe_dump(local))
    stack = auto.create_stack("broken", work_dir=str(project), opts=workspace_options(tmp_path))

    with pytest.raises(auto.CommandError) as preview_error:
        stack.preview()
    shown = str(preview_error.value)
    # One clean message, as a user sees it: no Python traceback, nothing but our error.
    assert "Traceback" not in shown and "unhandled" not in shown, shown
    diagnostics = shown.split("Diagnostics:", 1)[1].split("Resources:", 1)[0]
    errors = [line.strip() for line in diagnostics.splitlines() if "error:" in line]
    assert errors == ["error: invalid stack configuration:"], diagnostics
    assert "  - mlflow-platform:cluster.cpus = 1: allowed: 2 or more" in (diagnostics)

    with pytest.raises(auto.CommandError):
        stack.up()
    assert managed_types(stack) == []
