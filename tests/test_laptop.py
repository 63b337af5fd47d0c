"""`make start` / `make stop` and the start before `make up`, with a stand-in minikube."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra import laptop

STAND_IN = """#!/bin/sh
printf '%s\\n' "$*" >> "{calls}"
case "$1" in
  status) exit "$(cat "{state}")" ;;
  start|stop) echo 0 > "{state}" ;;
esac
"""


@pytest.fixture
def minikube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A minikube on PATH whose `status` exit code is the state file's content."""
    calls, state = tmp_path / "calls", tmp_path / "state"
    script = tmp_path / "bin" / "minikube"
    script.parent.mkdir()
    script.write_text(STAND_IN.format(calls=calls, state=state))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return calls, state


def test_the_committed_profiles() -> None:
    assert laptop.profile("local") == "mlflow-local"
    assert laptop.profile("dev") == "mlflow-dev"
    assert laptop.profile("prod") is None  # GKE: nothing to start


@pytest.mark.parametrize(("status", "started"), [(7, True), (0, False), (85, False)])
def test_only_a_stopped_profile_is_started(
    minikube: tuple[Path, Path], status: int, started: bool
) -> None:
    calls, state = minikube
    state.write_text(str(status))
    assert laptop.start("mlflow-local") == 0
    recorded = calls.read_text().splitlines()
    assert recorded[0] == "status -p mlflow-local"
    # The profile's saved settings: no flags that could differ from the ones it was made with.
    assert ("start -p mlflow-local" in recorded) is started


def test_stop(minikube: tuple[Path, Path]) -> None:
    calls, state = minikube
    state.write_text("0")
    assert laptop.main(["laptop", "stop", "local"]) == 0
    assert calls.read_text().splitlines() == ["stop -p mlflow-local"]
    assert laptop.main(["laptop", "stop", "prod"]) == 0  # nothing to stop on GKE
