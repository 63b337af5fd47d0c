"""The GitHub Actions workflows: linted by actionlint, and shaped the way the README promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"


def _load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads `on:` as True
    return data


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _actionlint() -> str:
    found = str(ACTIONLINT) if ACTIONLINT.exists() else shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is not built: `make tools` builds it from its Go module")
    return found


def test_workflows_pass_actionlint():
    result = subprocess.run(
        [_actionlint(), "-no-color"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path):
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


def test_every_action_is_pinned_to_a_version():
    for path in WORKFLOWS.glob("*.yml"):
        for step in _steps(_load(path.name)):
            if "uses" in step:
                version = step["uses"].partition("@")[2]
                assert version.startswith("v"), f"{path.name}: {step['uses']}"


def test_preview_comments_diff_and_policy_for_every_stack():
    preview = _load("preview.yml")
    assert "pull_request" in preview["on"]
    assert preview["permissions"]["id-token"] == "write"
    pulumi = next(s for s in _steps(preview) if s.get("uses", "").startswith("pulumi/actions@v7"))
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True and pulumi["with"]["diff"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    auth = next(
        s for s in _steps(preview) if s.get("uses", "").startswith("google-github-actions/auth")
    )
    assert "workload_identity_provider" in auth["with"] and "credentials_json" not in auth["with"]
    assert '["dev","staging","prod"]' in (WORKFLOWS / "preview.yml").read_text()


def test_deploy_gates_prod_behind_an_environment():
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


def test_destroy_needs_confirmation_and_refuses_prod():
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


def test_tests_workflow_runs_the_readme_command():
    steps = _steps(_load("test.yml"))
    assert any(step.get("run") == "make test" for step in steps)


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "destroy.yml"])
def test_gke_auth_plugin_is_installed_after_login_and_before_pulumi(name):
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
