"""The GitHub Actions workflows: linted by actionlint, and shaped the way the docs promise."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"


def _load(name: str) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads `on:` as True
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _actionlint() -> str:
    found = str(ACTIONLINT) if ACTIONLINT.exists() else shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is not built: `make tools` builds it from its Go module")
    return found


def test_workflows_pass_actionlint() -> None:
    result = subprocess.run(
        [_actionlint(), "-no-color"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    text = (WORKFLOWS / "preview.yml").read_text().replace("runs-on:", "runs_on:", 1)
    (broken / "preview.yml").write_text(text)
    result = subprocess.run(
        [_actionlint(), "-no-color", str(broken / "preview.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "runs_on" in result.stdout, result.stdout + result.stderr


SHA_PIN = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it() -> None:
    """A tag can be moved to other code; a full commit SHA cannot. The comment is what Renovate
    and a reader compare against."""
    for path in WORKFLOWS.glob("*.yml"):
        lines = [line for line in path.read_text().splitlines() if "uses:" in line]
        assert lines, path.name
        for line in lines:
            assert SHA_PIN.match(line), f"{path.name}: {line.strip()}"


def test_permissions_are_empty_at_the_top_and_granted_per_job() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        workflow = _load(path.name)
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            assert isinstance(job.get("permissions"), dict), f"{path.name}: {name}"
            assert job["permissions"].get("contents") == "read", f"{path.name}: {name}"


def test_checkout_never_keeps_the_token() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for step in _steps(_load(path.name)):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path.name


def test_every_credentialed_job_runs_in_an_environment_and_one_group_per_stack() -> None:
    """id-token: write only inside an environment, whose Google binding names that environment;
    preview, deploy and destroy of one stack share one concurrency group and never cancel."""
    credentialed = 0
    for path in WORKFLOWS.glob("*.yml"):
        for name, job in _load(path.name)["jobs"].items():
            if job["permissions"].get("id-token") != "write":
                continue
            credentialed += 1
            assert job.get("environment"), f"{path.name}: {name}"
            assert job["concurrency"]["group"].startswith("pulumi-${{"), f"{path.name}: {name}"
            assert job["concurrency"]["cancel-in-progress"] is False
    assert credentialed == 3


def test_fork_pull_requests_get_no_credentials() -> None:
    job = _load("preview.yml")["jobs"]["preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert job["environment"] == "preview-${{ matrix.stack }}"


def test_prod_deploys_only_from_main_or_a_version_tag() -> None:
    job = _load("deploy.yml")["jobs"]["deploy"]
    condition = job["if"]
    assert "!= 'prod'" in condition
    assert "github.ref == 'refs/heads/main'" in condition
    assert "startsWith(github.ref, 'refs/tags/v')" in condition


def test_destroy_runs_in_its_own_environment() -> None:
    job = _load("destroy.yml")["jobs"]["destroy"]
    assert job["environment"] == "destroy-${{ inputs.stack }}"


def test_no_workflow_hands_a_passphrase_or_token_to_pulumi() -> None:
    """State is in the bootstrap bucket and secrets under each stack's KMS key: nothing
    repository-wide decrypts a stack."""
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        assert "PULUMI_CONFIG_PASSPHRASE" not in text and "PULUMI_ACCESS_TOKEN" not in text


def test_zizmor_reports_nothing() -> None:
    """zizmor at its default persona, offline (no GitHub API): every finding is fixed."""
    zizmor = Path(sys.executable).with_name("zizmor")
    if not zizmor.exists():
        pytest.skip("zizmor is not installed: `make venv` installs it (test extras)")
    result = subprocess.run(
        [str(zizmor), "--offline", "--format", "plain", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_codeowners_cover_the_trust_chain() -> None:
    owners = (ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
    paths = {line.split()[0] for line in owners if line.strip() and not line.startswith("#")}
    assert {"/policy/", "/.github/", "/bootstrap/", "/stacks/Pulumi.prod.yaml"} <= paths


def test_preview_comments_diff_and_policy_for_every_stack() -> None:
    preview = _load("preview.yml")
    assert "pull_request" in preview["on"]
    assert preview["jobs"]["preview"]["permissions"]["id-token"] == "write"
    pulumi = next(s for s in _steps(preview) if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True and pulumi["with"]["diff"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    auth = next(
        s for s in _steps(preview) if s.get("uses", "").startswith("google-github-actions/auth")
    )
    assert "workload_identity_provider" in auth["with"] and "credentials_json" not in auth["with"]
    assert '["dev","staging","prod"]' in (WORKFLOWS / "preview.yml").read_text()


def test_deploy_gates_prod_behind_an_environment() -> None:
    deploy = _load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    assert deploy["on"]["workflow_dispatch"]["inputs"]["stack"]["options"] == ["staging", "prod"]
    job = deploy["jobs"]["deploy"]
    assert "'prod'" in job["environment"] and "'staging'" in job["environment"]
    commands = {
        s["with"].get("command") for s in _steps(deploy) if "pulumi/actions" in s.get("uses", "")
    }
    assert commands == {"up", "preview"}
    drift = next(s for s in _steps(deploy) if s.get("name", "").startswith("Drift"))
    assert drift["with"]["expect-no-changes"] is True and drift["with"]["refresh"] is True


def test_destroy_needs_confirmation_and_refuses_prod() -> None:
    destroy = _load("destroy.yml")
    inputs = destroy["on"]["workflow_dispatch"]["inputs"]
    assert "prod" not in inputs["stack"]["options"] and inputs["confirm"]["required"] is True
    confirm = _steps(destroy)[0]["run"]
    assert '"$STACK" = "prod"' in confirm and '"$CONFIRM" != "$STACK"' in confirm
    script = ["bash", "-c", confirm]
    for stack, typed, ok in [
        ("dev", "dev", True),
        ("dev", "staging", False),
        ("prod", "prod", False),
    ]:
        result = subprocess.run(
            script,
            env={"STACK": stack, "CONFIRM": typed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        assert (result.returncode == 0) is ok, (stack, typed, result.stdout)


def test_tests_workflow_runs_the_readme_command() -> None:
    steps = _steps(_load("test.yml"))
    assert any(step.get("run") == "make test" for step in steps)


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "destroy.yml"])
def test_gke_auth_plugin_is_installed_after_login_and_before_pulumi(name: str) -> None:
    """The GKE kubeconfig runs gke-gcloud-auth-plugin; a runner lacks it unless installed."""
    for job in _load(name)["jobs"].values():
        uses = [step.get("uses", "") for step in job.get("steps", [])]
        if not any(u.startswith("pulumi/actions@") for u in uses):
            continue
        auth = next(i for i, u in enumerate(uses) if u.startswith("google-github-actions/auth@"))
        gcloud = next(
            i for i, u in enumerate(uses) if u.startswith("google-github-actions/setup-gcloud@")
        )
        first_pulumi = next(i for i, u in enumerate(uses) if u.startswith("pulumi/actions@"))
        assert auth < gcloud < first_pulumi, uses
        step = job["steps"][gcloud]
        assert "gke-gcloud-auth-plugin" in step["with"]["install_components"].split(",")
