"""No password on a running process's command line: what /proc/<pid>/cmdline (and `ps`, for any
user on the node) shows of the rendered containers once they really run.

The dev stack's server runs as rendered (tests/integration/test_mlflow_workload.py); then every
process on this machine is read: the database and admin passwords are in none of their command
lines, while the server's processes (the `mlflow server` supervisor and its workers) do hold the
database URI, in their environment. The migration Job's containers and the garbage collector
are started as rendered and their command lines read while they run.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.harness import run_stack
from tests.integration import services
from tests.integration.test_mlflow_workload import (
    MLFLOW,
    PYTHON,
    RenderedWorkload,
    container_env,
    local_env,
    serving,
)

pytestmark = pytest.mark.integration


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process ended, or is not ours to read
        return b""


def command_lines() -> dict[int, bytes]:
    return {int(p.name): _read(p / "cmdline") for p in Path("/proc").iterdir() if p.name.isdigit()}


def holding(secret: str) -> list[int]:
    """The processes whose environment holds `secret`."""
    needle = secret.encode()
    return [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and needle in _read(p / "environ")
    ]


def _passwords(workload: RenderedWorkload) -> tuple[str, str]:
    _, env = workload.command("db-migrate")
    _, admin_env = workload.command("auth-admin")
    database = urlsplit(env["MLFLOW_BACKEND_STORE_URI"]).password
    assert database
    return database, admin_env["MLFLOW_AUTH_ADMIN_PASSWORD"]


def test_a_running_server_has_no_password_on_its_command_line(
    postgres: services.Postgres, gcs: services.GcsEmulator, tmp_path: Path
) -> None:
    workload = RenderedWorkload(run_stack("dev"))
    database, admin = _passwords(workload)
    with serving(workload, postgres, gcs, tmp_path):
        lines = command_lines()
        server = holding(database)
    assert len(server) >= 3, "the supervisor and its two workers hold the database URI"
    assert all(lines.get(pid) for pid in server)
    for pid, line in lines.items():
        assert database.encode() not in line, (pid, line[:200])
        assert admin.encode() not in line, (pid, line[:200])


@pytest.mark.parametrize("container", ["db-migrate", "auth-db-migrate", "auth-admin", "gc"])
def test_a_running_job_container_has_no_password_on_its_command_line(
    container: str, tmp_path: Path
) -> None:
    capture = run_stack("dev")
    workload = RenderedWorkload(capture)
    database, admin = _passwords(workload)
    cron = capture.one("kubernetes:batch/v1:CronJob").inputs
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    spec = pod["containers"][0] if container == "gc" else workload.container(container)
    env = container_env(spec, workload.config_maps, workload.secrets)
    argv = [*spec["command"], *spec["args"]]
    executable = MLFLOW if argv[0] == "mlflow" else PYTHON
    # No database answers: the process only has to live long enough to be read.
    process = subprocess.Popen(
        [executable, *argv[1:]],
        env={"PATH": str(Path(PYTHON).parent), "HOME": str(tmp_path), **local_env(env, _NOWHERE)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        line = _read(Path(f"/proc/{process.pid}/cmdline"))
        time.sleep(0.2)
        line += _read(Path(f"/proc/{process.pid}/cmdline"))
    finally:
        process.kill()
        process.wait()
    assert line.split(b"\0")[0] == executable.encode()
    assert database.encode() not in line and admin.encode() not in line


class _Nowhere:
    """A database address that refuses connections (the cmdline is read before any)."""

    host = "127.0.0.1"
    port = 9


_NOWHERE = _Nowhere()
