"""`--policy-pack` through the real engine: the pack loads, mandatory stops, advisory warns.

CLI 3.259 names a Python policy pack in RunPluginRequest.info, a field the language host built
from sdk v3.79.0 predates: on its own that host ran the stack's program in the pack's place
("policy pack ... failed to start: could not read plugin"). tools/engine/langshim puts the
pack's directory where the old host reads it. No cluster is needed: policy_probe/program is one
RandomPassword (served by our random provider) whose length the stack sets, and
policy_probe/pack holds a mandatory minimum (12) and an advisory recommendation (24).
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.engine.toolchain import (
    ENGINE_BIN,
    copy_project,
    managed_types,
    require_engine,
    workspace_options,
)
from tests.harness import ROOT

pytestmark = pytest.mark.engine

PROBE = Path(__file__).with_name("policy_probe")
PROBE_PACK = str(PROBE / "pack")
PROJECT_PACK = str(ROOT / "policy")


def _require(*names: str) -> None:
    """The engine (with the language host behind our shim) and the providers `names`."""
    require_engine()
    missing = [name for name in names if not (ENGINE_BIN / name).exists()]
    if missing:
        pytest.skip(f"not built: {', '.join(missing)}; run `make engine`")


@pytest.fixture
def probe_stack(tmp_path: Path) -> Callable[[int], auto.Stack]:
    """Returns a function: the probe program's stack with RandomPassword `length`."""
    _require("pulumi-resource-random")

    def create(length: int) -> auto.Stack:
        project = tmp_path / f"length-{length}"
        shutil.copytree(PROBE / "program", project, ignore=shutil.ignore_patterns("__pycache__"))
        stack = auto.create_stack("probe", work_dir=str(project), opts=workspace_options(tmp_path))
        stack.set_config("length", auto.ConfigValue(str(length)))
        return stack

    return create


def _cli_up(stack: auto.Stack, pack: str) -> None:
    """`pulumi up --yes --policy-pack PACK` as a user or CI runs it: the preview comes first."""
    workspace = stack.workspace
    assert isinstance(workspace, auto.LocalWorkspace)
    workspace.pulumi_command.run(
        ["up", "--yes", "--stack", stack.name, "--non-interactive", "--policy-pack", pack],
        cwd=workspace.work_dir,
        additional_env=workspace.env_vars,
    )


def _assert_mandatory_violation(error: pytest.ExceptionInfo[auto.CommandError]) -> None:
    assert "[mandatory]  password-minimum-length" in str(error.value)
    assert "password length 8 is below the minimum 12" in str(error.value)


def test_a_mandatory_violation_stops_preview_and_up_and_nothing_is_created(
    probe_stack: Callable[[int], auto.Stack],
) -> None:
    stack = probe_stack(8)

    with pytest.raises(auto.CommandError) as preview_error:
        stack.preview(policy_packs=[PROBE_PACK])
    _assert_mandatory_violation(preview_error)

    with pytest.raises(auto.CommandError) as cli_up_error:
        _cli_up(stack, PROBE_PACK)
    _assert_mandatory_violation(cli_up_error)
    assert managed_types(stack) == []

    # The Automation API's up skips the preview: the pack then checks each resource before it
    # is created. The engine records the default provider first; the password never exists.
    with pytest.raises(auto.CommandError) as up_error:
        stack.up(policy_packs=[PROBE_PACK])
    _assert_mandatory_violation(up_error)
    assert managed_types(stack) == ["pulumi:providers:random"]


def test_an_advisory_violation_only_warns_and_up_succeeds(
    probe_stack: Callable[[int], auto.Stack],
) -> None:
    stack = probe_stack(16)
    advice = "password length 16 is below the recommended 24"

    preview = stack.preview(policy_packs=[PROBE_PACK])
    assert preview.change_summary == {"create": 2}  # the stack and the password
    assert "[advisory]  password-recommended-length" in preview.stdout
    assert advice in preview.stdout
    assert "[mandatory]" not in preview.stdout

    up = stack.up(policy_packs=[PROBE_PACK])
    assert up.summary.result == "succeeded"
    assert "[advisory]  password-recommended-length" in up.stdout
    assert advice in up.stdout
    assert "random:index/randomPassword:RandomPassword" in managed_types(stack)


def test_a_compliant_stack_passes_the_pack_without_a_word(
    probe_stack: Callable[[int], auto.Stack],
) -> None:
    stack = probe_stack(32)
    up = stack.up(policy_packs=[PROBE_PACK])
    assert up.summary.result == "succeeded"
    assert "policy-probe@" in up.stdout  # the pack ran...
    assert "password-" not in up.stdout  # ...and reported nothing


def test_the_project_pack_loads_on_the_local_stack_preview(tmp_path: Path) -> None:
    """What `make preview` runs: `pulumi preview --policy-pack policy` on the committed stack."""
    _require("pulumi-resource-command", "pulumi-resource-kubernetes", "pulumi-resource-random")
    project = copy_project(tmp_path / "project")
    stack = auto.create_stack("local", work_dir=str(project), opts=workspace_options(tmp_path))

    preview = stack.preview(policy_packs=[PROJECT_PACK])
    assert "mlflow-platform-guardrails@" in preview.stdout
    assert "[mandatory]" not in preview.stdout
    assert set(preview.change_summary) == {"create"}


# A CronJob whose container is privileged, rendered to YAML (no cluster): what the project pack's
# mandatory `workloads-no-host-access` rule must stop before anything is created.
PRIVILEGED_CRONJOB = """
import pulumi
import pulumi_kubernetes as k8s

provider = k8s.Provider("render", render_yaml_to_directory=pulumi.Config().require("out"))
container = k8s.core.v1.ContainerArgs(
    name="job",
    image="busybox:1.37.0",
    command=["true"],
    resources=k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": "10m", "memory": "16Mi"}, limits={"memory": "16Mi"}
    ),
    security_context=k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=1000,
        allow_privilege_escalation=False,
        privileged=pulumi.Config().require_bool("privileged"),
    ),
)
k8s.batch.v1.CronJob(
    "probe",
    spec=k8s.batch.v1.CronJobSpecArgs(
        schedule="0 3 * * *",
        job_template=k8s.batch.v1.JobTemplateSpecArgs(
            spec=k8s.batch.v1.JobSpecArgs(
                template=k8s.core.v1.PodTemplateSpecArgs(
                    spec=k8s.core.v1.PodSpecArgs(containers=[container], restart_policy="Never")
                )
            )
        ),
    ),
    opts=pulumi.ResourceOptions(provider=provider),
)
"""


def test_the_project_pack_stops_a_privileged_cronjob_before_anything_exists(tmp_path: Path) -> None:
    _require("pulumi-resource-kubernetes")
    project = tmp_path / "privileged"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: privileged-probe\nruntime: python\n")
    (project / "__main__.py").write_text(textwrap.dedent(PRIVILEGED_CRONJOB))
    stack = auto.create_stack("probe", work_dir=str(project), opts=workspace_options(tmp_path))
    stack.set_config("out", auto.ConfigValue(str(tmp_path / "rendered")))

    stack.set_config("privileged", auto.ConfigValue("true"))
    with pytest.raises(auto.CommandError) as refused:
        stack.preview(policy_packs=[PROJECT_PACK])
    assert "[mandatory]  workloads-no-host-access" in str(refused.value)
    assert "container 'job' is privileged" in str(refused.value)
    assert managed_types(stack) == []

    stack.set_config("privileged", auto.ConfigValue("false"))
    preview = stack.preview(policy_packs=[PROJECT_PACK])
    assert "workloads-no-host-access" not in preview.stdout
    assert "[mandatory]" not in preview.stdout
