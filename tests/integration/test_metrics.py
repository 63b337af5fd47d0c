"""The rendered metrics sidecar really serves the rendered server's Prometheus metrics.

Real PostgreSQL, real MLflow 3.17.2 with the basic-auth login (the dev stack as rendered),
emulated GCS. The server runs as rendered (`serving` in test_mlflow_workload.py) with its
`--expose-prometheus` directory swapped for a local one, and the rendered `metrics` container
runs beside it on that directory (its port swapped for a free one). prometheus_client's
multiprocess collector in the sidecar reads the files MLflow's workers write; a scrape needs no
credentials, while the API and MLflow's own /metrics still refuse anonymous calls.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from components.workload import metrics
from tests.harness import Capture, run_stack, stack_config, with_overrides
from tests.integration import services
from tests.integration.test_mlflow_workload import (
    RenderedWorkload,
    Serving,
    _log_a_run,
    log_in,
    serving,
)

pytestmark = pytest.mark.integration

REQUESTS = "mlflow_http_request_total"


class LocalMetricsDir(RenderedWorkload):
    """The rendered workload with the pod's metrics emptyDir at a local path (the only swap)."""

    def __init__(self, capture: Capture, directory: Path) -> None:
        super().__init__(capture)
        self.directory = directory

    def command(self, name: str) -> tuple[list[str], dict[str, str]]:
        argv, env = super().command(name)
        local = [str(self.directory) if arg == metrics.METRICS_DIR else arg for arg in argv]
        return local, env


@dataclass
class Pod:
    server: Serving
    workload: LocalMetricsDir
    metrics_port: int

    @property
    def scrape_url(self) -> str:
        return f"http://{services.LOOPBACK}:{self.metrics_port}{metrics.METRICS_PATH}"


@contextlib.contextmanager
def metrics_sidecar(workload: LocalMetricsDir, log: Path) -> Iterator[int]:
    """The rendered `metrics` container: its command and env, the dir and port swapped."""
    container = workload.container("metrics")
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"] == metrics.METRICS_DIR
    port = services.free_port()
    env.update(PROMETHEUS_MULTIPROC_DIR=str(workload.directory), METRICS_PORT=str(port))
    command = [*container["command"], *container["args"]]
    assert command[0] == "python"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, *command[1:]],
            env={"PATH": os.environ.get("PATH", ""), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            services.wait_for_port(port, 60, process)
            yield port
        finally:
            services.stop_process_group(process)


@pytest.fixture(scope="module")
def pod(
    stacks: dict[str, Capture],
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pod]:
    tmp = tmp_path_factory.mktemp("metrics-pod")
    directory = tmp / "prometheus-multiproc"
    workload = LocalMetricsDir(stacks["dev"], directory)
    with (
        serving(workload, postgres, gcs, tmp) as server,
        metrics_sidecar(workload, tmp / "sidecar.log") as port,
    ):
        yield Pod(server, workload, port)


def request_counts(url: str) -> dict[tuple[str, str], float]:
    """One anonymous scrape: mlflow_http_request_total by (method, status)."""
    from prometheus_client.parser import text_string_to_metric_families

    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.labels["method"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == REQUESTS
    }


def test_request_counters_rise_after_a_logged_run(
    pod: Pod, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = request_counts(pod.scrape_url)
    log_in(monkeypatch, pod.server)
    started = time.monotonic()
    _log_a_run(pod.workload.host, pod.server.port, tmp_path)
    after = request_counts(pod.scrape_url)
    rise = {k: after[k] - before.get(k, 0.0) for k in after if after[k] > before.get(k, 0.0)}
    print(
        f"\nrequests before {sum(before.values()):.0f}, after {sum(after.values()):.0f} "
        f"(run logged in {time.monotonic() - started:.1f}s): {sorted(rise.items())}"
    )
    # create experiment, create run, log param, log metric, set terminated: five POSTs at least.
    assert rise.get(("POST", "200"), 0) >= 5
    assert rise.get(("GET", "200"), 0) >= 1
    # What the sidecar read: the exporter's per-process files in the shared directory.
    files = sorted(p.name for p in pod.workload.directory.iterdir())
    assert any(name.startswith("counter_") and name.endswith(".db") for name in files), files


def test_the_scrape_needs_no_login_while_the_api_does(pod: Pod) -> None:
    server = f"http://{services.LOOPBACK}:{pod.server.port}"
    host = {"Host": pod.workload.host}
    anonymous_api = requests.get(
        f"{server}/api/2.0/mlflow/experiments/search", params={"max_results": 1}, headers=host
    )
    assert anonymous_api.status_code == 401
    # MLflow's own /metrics sits behind the login: the reason for the sidecar.
    assert requests.get(f"{server}/metrics", headers=host, timeout=10).status_code == 401
    assert requests.get(pod.scrape_url, timeout=10).status_code == 200
    # The sidecar serves nothing but the metrics.
    base = f"http://{services.LOOPBACK}:{pod.metrics_port}"
    for path in ("/", "/api/2.0/mlflow/experiments/search", "/health"):
        assert requests.get(base + path, timeout=10).status_code == 404, path


def test_the_probes_path_answers_on_the_named_port(pod: Pod) -> None:
    sidecar = pod.workload.container("metrics")
    probe = sidecar["readinessProbe"]["httpGet"]
    port = next(p for p in sidecar["ports"] if p["name"] == probe["port"])
    assert port["containerPort"] == metrics.METRICS_PORT
    url = f"http://{services.LOOPBACK}:{pod.metrics_port}{probe['path']}"
    assert requests.get(url, timeout=5).status_code == 200


ASK_LEVEL = "import logging, mlflow; print(logging.getLevelName(logging.getLogger('mlflow').level))"


def _mlflow_log_level(capture: Capture) -> str:
    """The level MLflow 3.17.2 sets on its loggers in the rendered server's environment."""
    _, env = RenderedWorkload(capture).command("mlflow")
    result = subprocess.run(
        [sys.executable, "-c", ASK_LEVEL],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": "/tmp",
            "MLFLOW_LOGGING_LEVEL": env["MLFLOW_LOGGING_LEVEL"],
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


@pytest.mark.parametrize(("setting", "level"), [(None, "INFO"), ("warning", "WARNING")])
def test_the_log_level_setting_reaches_mlflow(setting: Any, level: str) -> None:
    config = stack_config("dev")
    if setting is not None:
        config = with_overrides(config, mlflow__log_level=setting)
    assert _mlflow_log_level(run_stack("dev", config)) == level


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_the_sidecar_stops_on_sigterm_as_pid_1(stacks: dict[str, Capture], tmp_path: Path) -> None:
    """In its container the sidecar is PID 1, which ignores any signal it does not handle: run
    the rendered command as PID 1 of a new PID namespace and stop it as the kubelet does."""
    if os.geteuid() != 0:
        pytest.skip("a PID namespace needs root")
    container = RenderedWorkload(stacks["dev"]).container("metrics")
    port = services.free_port()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "METRICS_PORT": str(port)}
    command = [sys.executable, *container["command"][1:], *container["args"]]
    unshare = subprocess.Popen(
        ["unshare", "--pid", "--fork", "--kill-child", *command],
        env={"PATH": os.environ.get("PATH", ""), **env},
        start_new_session=True,
    )
    try:
        services.wait_for_port(port, 60, unshare)
        (init,) = _children(unshare.pid)
        status = Path(f"/proc/{init}/status").read_text().splitlines()
        (ns_pids,) = (line.split()[1:] for line in status if line.startswith("NSpid:"))
        assert ns_pids == [str(init), "1"]  # PID 1 in its own namespace, as in the pod
        started = time.monotonic()
        os.kill(init, signal.SIGTERM)
        assert unshare.wait(timeout=5) == 0
        assert time.monotonic() - started < 2
    finally:
        services.stop_process_group(unshare)
