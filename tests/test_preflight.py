"""`make up|preview|destroy` check the machine first and say in one message what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from infra import preflight
from tests.harness import ROOT


def _tools(directory: Path, docker_info: str = "8 17179869184", **extra: str) -> Path:
    """Programs on a PATH of their own: each prints nothing, docker prints `docker_info`."""
    directory.mkdir(exist_ok=True)
    scripts = {"pulumi": "", "minikube": "", "docker": f"echo {docker_info}", **extra}
    for name, body in scripts.items():
        path = directory / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return directory


@pytest.fixture
def path_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    def use(directory: Path) -> None:
        monkeypatch.setenv("PATH", str(directory))

    return use


def test_a_laptop_without_minikube_or_docker_gets_one_message(
    tmp_path: Path, path_only: Callable[[Path], None]
) -> None:
    path_only(tmp_path)
    problem = preflight.message("local", preflight.stack_checks("local"))
    assert problem is not None
    assert problem.splitlines()[0] == "Stack local needs on this machine:"
    assert "  - pulumi: not on PATH: https://www.pulumi.com/docs/install/" in problem
    assert "  - minikube: not on PATH: https://minikube.sigs.k8s.io/docs/start/" in problem
    assert "  - docker: not on PATH" in problem
    assert problem.endswith("Run `make doctor STACK=local` to see every check.")


def test_a_ready_laptop_passes(tmp_path: Path, path_only: Callable[[Path], None]) -> None:
    path_only(_tools(tmp_path / "bin"))
    checks = preflight.stack_checks("local")
    assert [c.what for c in checks] == [
        "pulumi",
        "minikube",
        "docker",
        "Docker running",
        "room for the profile",
    ]
    assert preflight.message("local", checks) is None


def test_too_small_a_docker_names_the_settings_and_what_it_has(
    tmp_path: Path, path_only: Callable[[Path], None]
) -> None:
    path_only(_tools(tmp_path / "bin", docker_info="1 2147483648"))
    problem = preflight.message("local", preflight.stack_checks("local"))
    assert problem is not None
    assert (
        "room for the profile: the stack asks for 2 CPUs and 4096 MiB (cluster.cpus, "
        "cluster.memory_mb); Docker has 1 CPUs and 2048 MiB"
    ) in problem


def test_docker_that_does_not_answer(tmp_path: Path, path_only: Callable[[Path], None]) -> None:
    path_only(_tools(tmp_path / "bin", docker_info="x; exit 1"))
    problem = preflight.message("local", preflight.stack_checks("local"))
    assert problem is not None
    assert "Docker running: start Docker" in problem


def test_gcp_stacks_need_gcloud_its_gke_plugin_and_credentials(
    tmp_path: Path, path_only: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    path_only(_tools(tmp_path / "bin"))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "none.json"))
    for stack in ("dev", "staging", "prod"):
        problem = preflight.message(stack, preflight.stack_checks(stack))
        assert problem is not None
        assert "  - gcloud: not on PATH" in problem
        assert "gke-gcloud-auth-plugin: not on PATH" in problem
        assert "run `gcloud auth application-default login`" in problem
    credentials = tmp_path / "adc.json"
    credentials.write_text("{}")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(credentials))
    path_only(_tools(tmp_path / "bin", gcloud="", **{"gke-gcloud-auth-plugin": ""}))
    assert preflight.message("staging", preflight.stack_checks("staging")) is None


def test_an_existing_cluster_needs_its_kubeconfig(
    tmp_path: Path, path_only: Callable[[Path], None]
) -> None:
    path_only(_tools(tmp_path / "bin"))
    (tmp_path / "Pulumi.mine.yaml").write_text(
        "config:\n  mlflow-platform:cluster:\n    kind: existing\n"
        f"    kubeconfig: {tmp_path}/kubeconfig\n    context: ctx\n"
    )
    checks = preflight.stack_checks("mine", stacks=tmp_path)
    problem = preflight.message("mine", checks)
    assert problem is not None
    assert f"kubeconfig: {tmp_path}/kubeconfig does not exist (cluster.kubeconfig)" in problem


def test_an_unknown_stack_names_the_stacks_there_are(
    tmp_path: Path, path_only: Callable[[Path], None]
) -> None:
    path_only(_tools(tmp_path / "bin"))
    problem = preflight.message("lcoal", preflight.stack_checks("lcoal"))
    assert problem is not None
    assert "stacks here: dev, local, prod, staging" in problem


def test_the_command_prints_no_traceback_and_fails(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "infra.preflight", "local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Stack local needs on this machine:")
    report = subprocess.run(
        [sys.executable, "-m", "infra.preflight", "local", "--report"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert report.returncode == 1
    assert " MISSING  minikube: not on PATH" in report.stdout


@pytest.mark.parametrize("action", ["up", "preview", "destroy"])
def test_make_checks_the_machine_before_pulumi_runs(action: str) -> None:
    plan = subprocess.run(
        ["make", "-n", action, "STACK=local"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    first_pulumi = next(i for i, line in enumerate(plan) if line.startswith("pulumi "))
    check = next(i for i, line in enumerate(plan) if "-m infra.preflight local" in line)
    assert check < first_pulumi
