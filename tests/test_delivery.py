"""The deploy path: a hashed lock compiled from pyproject, a deploy venv that holds only it, and
no stack but `local` with its secrets under an empty passphrase."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

from infra import deploy_lock, secrets_guard
from tests.harness import ROOT

PYPROJECT = (ROOT / "pyproject.toml").read_text()
LOCK = (ROOT / "requirements" / "deploy.txt").read_text()


def _locked() -> dict[str, str]:
    return {
        m.group(1).lower(): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", LOCK, re.M)
    }


def test_the_lock_is_compiled_from_the_current_pyproject():
    assert deploy_lock.staleness(LOCK, PYPROJECT) is None


def test_a_changed_runtime_requirement_makes_the_lock_stale():
    changed = PYPROJECT.replace('"pyyaml>=6.0"', '"pyyaml>=6.0.1"')
    assert changed != PYPROJECT
    problem = deploy_lock.staleness(LOCK, changed)
    assert problem and "make lock" in problem
    # A test-only requirement is not part of the deploy: the lock stays fresh.
    test_only = PYPROJECT.replace('"pytest>=8"', '"pytest>=8.1"')
    assert deploy_lock.staleness(LOCK, test_only) is None


def test_the_lock_pins_every_runtime_requirement_exactly_with_hashes():
    locked = _locked()
    for requirement in deploy_lock.runtime_requirements(PYPROJECT):
        name, _, pin = requirement.partition("==")
        name = re.split(r"[<>=\[ ]", name)[0].lower()
        assert name in locked, requirement
        if pin:
            assert locked[name] == pin, (requirement, locked[name])
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK.split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if block.strip())
    # The test tools stay out of the deploy.
    assert not {"pytest", "mlflow", "ruff", "mypy", "zizmor"} & set(locked)


def test_pulumi_install_and_make_use_the_same_deploy_venv():
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": ".venv-deploy"}
    assert pack["runtime"]["options"]["virtualenv"] == "../.venv-deploy"
    assert "-r requirements/deploy.txt" in (ROOT / "requirements.txt").read_text().splitlines()
    assert re.search(r"^DEPLOY_VENV \?= \.venv-deploy$", (ROOT / "Makefile").read_text(), re.M)


def test_zizmor_and_uv_are_pinned_test_tools():
    test_extras = tomllib.loads(PYPROJECT)["project"]["optional-dependencies"]["test"]
    assert {"zizmor==1.32.0", "uv==0.13.8"} <= set(test_extras)


# --- secrets: only `local` may use an empty passphrase ---------------------------------------

FILE_BACKEND = {"PULUMI_BACKEND_URL": "file:///tmp/state"}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_cloud_stack_without_a_passphrase_is_refused_naming_both_ways_out(stack):
    for env in (FILE_BACKEND, {**FILE_BACKEND, "PULUMI_CONFIG_PASSPHRASE": ""}):
        message = secrets_guard.refusal(stack, env, "config: {}\n")
        assert message is not None
        assert "PULUMI_CONFIG_PASSPHRASE" in message
        assert f"change-secrets-provider --stack {stack}" in message and "gcpkms://" in message


def test_local_a_passphrase_or_a_kms_provider_is_accepted():
    assert secrets_guard.refusal("local", FILE_BACKEND, "") is None
    with_passphrase = {**FILE_BACKEND, "PULUMI_CONFIG_PASSPHRASE": "s3cret"}
    assert secrets_guard.refusal("prod", with_passphrase, "") is None
    kms = "secretsprovider: gcpkms://projects/p/locations/l/keyRings/pulumi/cryptoKeys/prod\n"
    assert secrets_guard.refusal("prod", FILE_BACKEND, kms) is None
    passphrase = "secretsprovider: passphrase\n"
    assert secrets_guard.refusal("prod", FILE_BACKEND, passphrase) is not None
    gcs = {"PULUMI_BACKEND_URL": "gs://state"}
    assert secrets_guard.refusal("prod", gcs, "") is not None
    cloud = {"PULUMI_BACKEND_URL": "https://api.pulumi.com"}
    assert secrets_guard.refusal("prod", cloud, "") is None


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_refuses_prod_on_the_file_backend_without_a_passphrase():
    refused = _make("check-secrets", "STACK=prod")
    assert refused.returncode != 0
    assert "empty passphrase" in refused.stderr and "gcpkms://" in refused.stderr
    assert _make("check-secrets", "STACK=local").returncode == 0
    assert _make("check-secrets", "STACK=prod", "PULUMI_CONFIG_PASSPHRASE=x").returncode == 0


def test_make_up_preview_and_destroy_check_secrets_and_use_the_deploy_venv():
    for target in ("up", "preview", "destroy"):
        plan = _make("-n", "-W", "requirements/deploy.txt", target, "STACK=prod").stdout
        assert "infra.secrets_guard" in plan, target
        assert ".venv-deploy" in plan and "-e '.[test]'" not in plan, target
