"""The deploy path: a hashed lock compiled from pyproject, a deploy venv that holds only it, and
no stack but `local` with its secrets under an empty passphrase."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

from infra import deploy_lock, outdated, secrets_guard
from tests.harness import ROOT

PYPROJECT = (ROOT / "pyproject.toml").read_text()
LOCK = (ROOT / "requirements" / "deploy.txt").read_text()


def test_the_lock_serves_the_current_pyproject() -> None:
    assert deploy_lock.staleness(LOCK, PYPROJECT) == []


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('"pyyaml>=6.0"', '"pyyaml>=7"', "pyyaml>=7: the lock pins 6."),
        ('"pulumi==3.259.0"', '"pulumi==3.260.0"', "pulumi==3.260.0: the lock pins 3.259.0"),
        ('"pyyaml>=6.0",', '"pyyaml>=6.0", "jinja2>=3",', "jinja2>=3: not in the lock"),
        ('policy = ["pulumi-policy==1.21.0"]', 'policy = ["pulumi-policy==1.22"]', "1.22"),
    ],
)
def test_a_runtime_requirement_the_lock_does_not_serve_is_reported(
    old: str, new: str, problem: str
) -> None:
    changed = PYPROJECT.replace(old, new)
    assert changed != PYPROJECT
    problems = deploy_lock.staleness(LOCK, changed)
    assert len(problems) == 1 and problem in problems[0], problems


def test_test_requirements_and_foreign_locks_do_not_count() -> None:
    test_only = PYPROJECT.replace('"pytest>=8"', '"pytest>=99"')
    assert deploy_lock.staleness(LOCK, test_only) == []
    assert "make lock" in deploy_lock.staleness("requests==2.0\n", PYPROJECT)[0]


def test_version_comparison_covers_the_operators_used() -> None:
    assert deploy_lock.satisfies("2.14.4", ">=2.8,<3")
    assert not deploy_lock.satisfies("3.0.0", ">=2.8,<3")
    assert deploy_lock.satisfies("6.0.4", ">=6.0") and deploy_lock.satisfies("1.2.1", "==1.2.1")
    assert deploy_lock.satisfies("1.2.1", "~=1.2") and not deploy_lock.satisfies("2.0", "~=1.2")
    assert deploy_lock.satisfies("4.25.0", "") and not deploy_lock.satisfies("1.0", "!=1.0")
    assert deploy_lock.satisfies("3.259.0", "==3.259") and not deploy_lock.satisfies(
        "3.259.1", "==3.259"
    )


def test_the_lock_pins_every_package_with_hashes_and_no_test_tools() -> None:
    locked = deploy_lock.locked_versions(LOCK)
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK)
    pinned = [block for block in blocks if re.match(r"[A-Za-z0-9]", block)]
    assert len(pinned) == len(locked) > 10
    assert all("--hash=sha256:" in block for block in pinned)
    assert not {"pytest", "mlflow", "ruff", "mypy", "zizmor", "uv"} & set(locked)


def test_make_lock_runs_the_command_the_lock_records() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lock:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe
    command = " ".join(recipe.group(1).replace("\\\n", " ").split())
    assert deploy_lock.COMMAND in command
    recorded = next(line for line in LOCK.splitlines() if "uv pip compile" in line)
    for flag in ("--universal", "--python-version 3.11", "-o requirements/deploy.txt"):
        assert flag in recorded and flag in command, flag


def test_pulumi_install_and_make_use_the_same_deploy_venv() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["options"] == {"toolchain": "pip", "virtualenv": ".venv-deploy"}
    assert pack["runtime"]["options"]["virtualenv"] == "../.venv-deploy"
    # The language host runs pip in the program's directory (main: infra/).
    assert project["main"] == "infra/"
    program_requirements = (ROOT / "infra" / "requirements.txt").read_text().splitlines()
    assert "-r ../requirements/deploy.txt" in program_requirements
    bootstrap = yaml.safe_load((ROOT / "bootstrap" / "Pulumi.yaml").read_text())
    assert bootstrap["runtime"]["options"]["virtualenv"] == "../.venv-deploy"
    bootstrap_requirements = (ROOT / "bootstrap" / "requirements.txt").read_text().splitlines()
    assert "-r ../requirements/deploy.txt" in bootstrap_requirements
    assert re.search(r"^DEPLOY_VENV \?= \.venv-deploy$", (ROOT / "Makefile").read_text(), re.M)


def test_zizmor_and_uv_are_pinned_test_tools() -> None:
    test_extras = tomllib.loads(PYPROJECT)["project"]["optional-dependencies"]["test"]
    pinned = {r.partition("==")[0] for r in test_extras if "==" in r}
    assert {"zizmor", "uv"} <= pinned, "lint and lock tools are pinned exactly"


# --- secrets: only `local` may use an empty passphrase ---------------------------------------

FILE_BACKEND = {"PULUMI_BACKEND_URL": "file:///tmp/state"}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_cloud_stack_without_a_passphrase_is_refused_naming_both_ways_out(stack: str) -> None:
    for env in (FILE_BACKEND, {**FILE_BACKEND, "PULUMI_CONFIG_PASSPHRASE": ""}):
        message = secrets_guard.refusal(stack, env, "config: {}\n")
        assert message is not None
        assert "PULUMI_CONFIG_PASSPHRASE" in message
        assert f"change-secrets-provider --stack {stack}" in message and "gcpkms://" in message


def test_local_a_passphrase_or_a_kms_provider_is_accepted() -> None:
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


def test_make_refuses_prod_on_the_file_backend_without_a_passphrase() -> None:
    refused = _make("check-secrets", "STACK=prod")
    assert refused.returncode != 0
    assert "empty passphrase" in refused.stderr and "gcpkms://" in refused.stderr
    assert _make("check-secrets", "STACK=local").returncode == 0
    assert _make("check-secrets", "STACK=prod", "PULUMI_CONFIG_PASSPHRASE=x").returncode == 0


def test_make_up_preview_and_destroy_check_secrets_and_use_the_deploy_venv() -> None:
    for target in ("up", "preview", "destroy"):
        plan = _make("-n", "-W", "requirements/deploy.txt", target, "STACK=prod").stdout
        assert "infra.secrets_guard" in plan, target
        assert ".venv-deploy" in plan and "-e '.[test]'" not in plan, target


# --- updates: Renovate and `make outdated` see the same pins ---------------------------------

RENOVATE = json.loads((ROOT / "renovate.json").read_text())
ANNOTATED = [
    ROOT / "components" / "shared" / "versions.py",
    ROOT / "Makefile",
    *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
]
# Not served versions but choices: the Kubernetes minor the stacks target, Cloud SQL's engine.
UNANNOTATED = {"KUBERNETES_VERSION", "CLOUD_SQL_DATABASE_VERSION"}


def _renovate_regex() -> re.Pattern[str]:
    (manager,) = RENOVATE["customManagers"]
    (pattern,) = manager["matchStrings"]
    return re.compile(pattern.replace("(?<", "(?P<"))


def test_renovate_covers_every_kind_of_pin() -> None:
    assert set(RENOVATE["enabledManagers"]) == {
        "pep621",
        "pip-compile",
        "gomod",
        "github-actions",
        "custom.regex",
    }
    (lock_pattern,) = RENOVATE["pip-compile"]["managerFilePatterns"]
    assert re.search(lock_pattern.strip("/"), "requirements/deploy.txt")
    patterns = [p.strip("/") for p in RENOVATE["customManagers"][0]["managerFilePatterns"]]
    for path in ANNOTATED:
        assert any(re.search(p, str(path.relative_to(ROOT))) for p in patterns), path


def test_renovates_regex_and_make_outdated_find_every_annotated_pin() -> None:
    regex = _renovate_regex()
    for path in ANNOTATED:
        text = path.read_text()
        annotations = sum(
            line.strip().startswith("# renovate: datasource=") for line in text.splitlines()
        )
        found = list(regex.finditer(text))
        assert len(found) == annotations, path
        assert len(list(outdated.annotated_pins(path))) == annotations, path
        for match in found:
            assert match["currentValue"][0].isdigit() or match["currentValue"].startswith("v")


def test_every_served_pin_in_versions_py_is_annotated() -> None:
    lines = (ROOT / "components" / "shared" / "versions.py").read_text().splitlines()
    for i, line in enumerate(lines):
        name = line.split(":", 1)[0]
        if re.match(r"^[A-Z0-9_]+(_VERSION|_IMAGE|_IMAGE_TAG)$", name) and name not in UNANNOTATED:
            assert lines[i - 1].startswith("# renovate: datasource="), name


def test_the_language_hosts_sdk_pin_is_never_bumped() -> None:
    rule = next(r for r in RENOVATE["packageRules"] if r.get("enabled") is False)
    assert rule["matchFileNames"] == ["tools/engine/langhost/go.mod"]


def test_make_outdated_lists_every_pin_and_tolerates_unreachable_registries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pins = outdated.all_pins()
    sources = {pin.where for pin in pins}
    assert {"pyproject.toml", "components/shared/versions.py", "Makefile"} <= sources
    assert any(where.startswith("tools/") and where.endswith("go.mod") for where in sources)
    names = {pin.name for pin in pins}
    assert {"pulumi", "pulumi-kubernetes", "checkov", "github.com/rhysd/actionlint"} <= names

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr("infra.outdated.subprocess.run", offline)
    assert outdated.newest_go("github.com/rhysd/actionlint") == "unreachable"
    monkeypatch.setattr("infra.outdated.shutil.which", lambda name: None)
    monkeypatch.setattr(outdated, "GO_FALLBACK", ())
    assert outdated.newest_go("github.com/rhysd/actionlint").startswith("unreachable")
    assert outdated.status("1.0", "unreachable") == ""
    assert outdated.status("v1.2", "1.2") == "current"
    assert outdated.status("1.2", "1.3") == "newer served"
