"""Real containers for the integration tests: a private dockerd and the locally built images.

Where we are root, Debian's docker.io is installed and `make node` has built
.tools/node/images/postgres.tar, the session starts one private dockerd (tools/node/dockerd.py),
loads that image into it, and each test module's PostgreSQL is a container of it, started by
testcontainers. Otherwise PostgreSQL runs as a process from Debian's package. `REPORT` records
which ran and why, for the run's summary (tests/conftest.py, which also relays it from an xdist
worker).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from components.stores.postgres import POSTGRES_UID
from tests.integration import services
from tools.node import dockerd

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_TAR = ROOT / ".tools/node/images/postgres.tar"
POSTGRES_IMAGE = "localhost/postgres:15-bookworm-standin"
DOCKER = "docker"

TESTCONTAINERS_ENV = {
    # Ryuk, testcontainers' reaper, is an image on Docker Hub, which these machines cannot pull;
    # the fixtures remove their containers themselves, and the whole engine goes afterwards.
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    # These machines have /.dockerenv, so testcontainers believes it runs inside a container and
    # would connect to published ports through the bridge's gateway; they are on this host.
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    # ... and with a unix:// DOCKER_HOST the published ports are on loopback.
    "TESTCONTAINERS_HOST_OVERRIDE": services.LOOPBACK,
}


@dataclass
class Report:
    """Which PostgreSQL the integration tests used, and why."""

    backend: str = ""
    reason: str = ""
    started: list[float] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.backend:
            return []
        count = len(self.started)
        timing = f", {max(self.started):.1f}s at most to start" if self.started else ""
        return [f"PostgreSQL: {count} x {self.backend}{timing}", f"  because {self.reason}"]


REPORT = Report()


# Set to "process" to run Debian's PostgreSQL even where containers would work.
CHOICE = "MLFLOW_PLATFORM_TEST_POSTGRES"


def unavailable() -> str | None:
    """Why PostgreSQL cannot run as a container here, or None when it can."""
    if os.environ.get(CHOICE) == "process":
        return f"{CHOICE}=process"
    reason = dockerd.available()
    if reason:
        return reason
    if not POSTGRES_TAR.exists():
        return f"{POSTGRES_TAR.relative_to(ROOT)} is missing (make node builds it)"
    return None


@dataclass
class Engine:
    """The running private engine, its client environment and the loaded image."""

    daemon: dockerd.Dockerd
    image: str

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [DOCKER, *args],
            env={**os.environ, **self.daemon.env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)[:300]}: {done.stderr[-2000:]}")
        return done


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ for the block (testcontainers and the docker SDK read it)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    _configure_testcontainers()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _configure_testcontainers() -> None:
    """testcontainers reads the host and connection mode once, when first imported; if it was
    imported before the variables were set, hand them over to its configuration object."""
    if "testcontainers.core.config" not in sys.modules:
        return
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    testcontainers_config.ryuk_disabled = True
    testcontainers_config.connection_mode_override = ConnectionMode(
        TESTCONTAINERS_ENV["TESTCONTAINERS_CONNECTION_MODE"]
    )
    testcontainers_config.tc_host_override = TESTCONTAINERS_ENV["TESTCONTAINERS_HOST_OVERRIDE"]


@contextlib.contextmanager
def docker_engine() -> Iterator[Engine]:
    """A private dockerd with our PostgreSQL image loaded; everything goes at the end."""
    with dockerd.private_dockerd() as daemon:
        engine = Engine(daemon, POSTGRES_IMAGE)
        engine.docker("load", "--input", str(POSTGRES_TAR))
        engine.docker("image", "inspect", POSTGRES_IMAGE)
        with _environment({**daemon.env, **TESTCONTAINERS_ENV}):
            yield engine


@contextlib.contextmanager
def postgres_server(engine: Engine | None) -> Iterator[services.Postgres]:
    """A fresh PostgreSQL for one test module: a container when there is an engine."""
    started = time.monotonic()
    if engine is not None:
        server = services.container_postgres(engine.image, POSTGRES_UID)
    else:
        server = services.debian_postgres()
    with server as pg:
        REPORT.started.append(time.monotonic() - started)
        yield pg
