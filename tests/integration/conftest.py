from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from tests.integration import docker_engine as engines
from tests.integration import services


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[engines.Engine | None]:
    """The private dockerd with our PostgreSQL image, or None where it cannot run here."""
    reason = engines.unavailable()
    if reason is not None:
        engines.REPORT.backend = "Debian postgresql as a process"
        engines.REPORT.reason = f"no container: {reason}"
        yield None
        return
    engines.REPORT.backend = f"container {engines.POSTGRES_IMAGE} (testcontainers, private dockerd)"
    engines.REPORT.reason = "root, docker.io and the built image are all here"
    # A TERM (a CI timeout) unwinds like Ctrl-C, so the engine and its containers still go.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with engines.docker_engine() as engine:
            yield engine
    finally:
        signal.signal(signal.SIGTERM, previous)


SHARED_MEMORY = Path("/dev/shm")


@pytest.fixture(scope="session", autouse=True)
def no_job_queues_left() -> Iterator[None]:
    """An MLflow server with its job runner on (MLflow's default, which a test may run on
    purpose) keeps its job queues in a directory in /dev/shm and leaves it there when it stops;
    the ones this session made go with it."""
    before = set(SHARED_MEMORY.iterdir()) if SHARED_MEMORY.exists() else set()
    yield
    if SHARED_MEMORY.exists():
        for path in set(SHARED_MEMORY.iterdir()) - before:
            if path.is_dir() and any(path.glob("*.mlflow-huey-store")):
                shutil.rmtree(path, ignore_errors=True)


# Each module gets servers of its own: a test may migrate, rotate or fill the database.


@pytest.fixture(scope="module")
def postgres(docker_engine: engines.Engine | None) -> Iterator[services.Postgres]:
    """A fresh server for the module: a container of our image where the session has a private
    dockerd (tests/integration/docker_engine.py), else Debian's PostgreSQL as a process."""
    if docker_engine is None and services.postgres_bin_dir() is None:
        pytest.skip("needs PostgreSQL: make node (as root) or apt-get install postgresql")
    with engines.postgres_server(docker_engine) as pg:
        yield pg


@pytest.fixture(scope="module")
def gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.GcsEmulator]:
    with services.gcs_emulator(tmp_path_factory.mktemp("gcs")) as emulator:
        yield emulator
