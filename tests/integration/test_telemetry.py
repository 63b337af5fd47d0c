"""MLflow 3.17.2 itself honours the rendered telemetry setting: with the server's environment
(resolved from the rendered ConfigMap and Secrets as the kubelet does) telemetry is disabled,
and with `mlflow.telemetry: true` it is not. Run in a clean environment, because MLflow also
turns telemetry off by itself in CI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.harness import Capture, run_stack, stack_config, with_overrides
from tests.integration.test_mlflow_workload import RenderedWorkload

pytestmark = pytest.mark.integration

ASK = "from mlflow.telemetry.utils import is_telemetry_disabled; print(is_telemetry_disabled())"


def _mlflow_says(stack_capture: Capture) -> str:
    _, env = RenderedWorkload(stack_capture).command("mlflow")
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    result = subprocess.run(
        [sys.executable, "-c", ASK],
        env={**clean, **{k: v for k, v in env.items() if k.startswith("MLFLOW_DISABLE")}},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_the_rendered_server_sends_no_telemetry(stacks: dict[str, Capture]) -> None:
    assert _mlflow_says(stacks["dev"]) == "True"


def test_allowing_telemetry_reaches_mlflow() -> None:
    allowed = run_stack("dev", with_overrides(stack_config("dev"), mlflow__telemetry=True))
    assert _mlflow_says(allowed) == "False"
