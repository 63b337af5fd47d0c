"""The Cloud SQL backup step through the real engine: a new instance's first `up` backs nothing up,
an MLflow version change does, an adopted instance is backed up at once, and destroy leaves the
backups alone.

The step is the platform's own (migration.cloud_sql_backup) in a one-resource program; `gcloud` is
a stand-in that records its calls (tests/test_migration.py's), and the command provider is our
build (tools/engine/providers/command), which follows upstream's diff: `triggers` replace, any
other input is an update that runs `update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.engine.toolchain import require_engine, workspace_options
from tests.harness import ROOT
from tests.test_migration import FAKE_GCLOUD

pytestmark = pytest.mark.engine

BACKUP_ID = "1764086400999"

PROGRAM = f"""\
import sys

sys.path.insert(0, {str(ROOT)!r})

import pulumi

from components.workload.mlflow import migration

config = pulumi.Config()
step = migration.cloud_sql_backup(
    "mlflow",
    "mlflow-prod-project",
    "mlflow-prod",
    migration.backup_description("prod", config.require("version")),
    adopted=config.require_bool("adopted"),
    opts=pulumi.ResourceOptions(),
)
pulumi.export("backup_id", step.stdout.apply(str.strip))
"""


def _project(root: Path) -> Path:
    project = root / "project"
    project.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: backup-step\nruntime: python\n")
    (project / "__main__.py").write_text(PROGRAM)
    return project


def _stack(root: Path, name: str, adopted: bool) -> tuple[auto.Stack, Path]:
    """A stack of the one-step program in its own directory `root` (one per test)."""
    bin_dir, log = root / "bin", root / "gcloud.log"
    bin_dir.mkdir()
    (bin_dir / "gcloud").write_text(FAKE_GCLOUD)
    (bin_dir / "gcloud").chmod(0o755)
    options = workspace_options(root, extra_path=[bin_dir])
    assert options.env_vars is not None
    options.env_vars = {
        **options.env_vars,
        "GCLOUD_LOG": str(log),
        "LISTED": BACKUP_ID,
    }
    stack = auto.create_stack(name, work_dir=str(_project(root)), opts=options)
    stack.set_config("version", auto.ConfigValue("3.17.2"))
    stack.set_config("adopted", auto.ConfigValue(str(adopted).lower()))
    return stack, log


def _calls(log: Path) -> list[str]:
    return [line.split(" --")[0] for line in log.read_text().splitlines()] if log.exists() else []


def test_a_new_instance_is_backed_up_only_when_the_version_changes(tmp_path: Path) -> None:
    require_engine()
    stack, log = _stack(tmp_path, "new", adopted=False)
    first = stack.up()
    assert first.summary.resource_changes == {"create": 2}
    assert _calls(log) == [] and first.outputs["backup_id"].value == ""

    again = stack.up()
    assert again.summary.resource_changes == {"same": 2}
    assert _calls(log) == []

    stack.set_config("version", auto.ConfigValue("3.18.0"))
    bump = stack.up()
    assert bump.summary.resource_changes == {"update": 1, "same": 1}
    assert _calls(log) == ["sql backups create", "sql backups list"]
    assert bump.outputs["backup_id"].value == BACKUP_ID

    stack.destroy()
    assert len(_calls(log)) == 2, "destroy must leave the backups alone"


def test_an_adopted_instance_is_backed_up_at_its_first_up(tmp_path: Path) -> None:
    require_engine()
    stack, log = _stack(tmp_path, "adopted", adopted=True)
    first = stack.up()
    assert _calls(log) == ["sql backups create", "sql backups list"]
    assert first.outputs["backup_id"].value == BACKUP_ID
    stack.destroy()
    assert len(_calls(log)) == 2
