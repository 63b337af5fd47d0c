"""The stand-in images (tools/node/images) do what our pods ask of the official ones.

Each image is loaded from its tar into the session's private dockerd and run the way the rendered
pod runs it: the pod's UID, a read-only root, emptyDirs as tmpfs, the rendered env, commands and
probes. Skipped where the engine cannot run (see tests/integration/docker_engine.py) or an image
has not been built (`make node`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
import requests

from components.shared import versions
from components.shared.versions import MLFLOW_VERSION
from components.stores.postgres import InClusterPostgres, InClusterPostgresArgs
from tests.harness import Capture, run_under_mocks
from tests.integration import services
from tests.integration.docker_engine import ROOT, Engine

pytestmark = [pytest.mark.integration, pytest.mark.docker]

IMAGES = ROOT / ".tools/node/images"
MLFLOW_UID = 10001


def _loaded(engine: Engine | None, name: str) -> tuple[Engine, str]:
    """The engine and the image's tag, once its tar is loaded."""
    if engine is None:
        pytest.skip("no private dockerd here (see the PostgreSQL line in the summary)")
    tar = IMAGES / f"{name}.tar"
    if not tar.exists():
        pytest.skip(f"{tar.relative_to(ROOT)} is missing (make node builds it)")
    output = engine.docker("load", "--input", str(tar)).stdout
    return engine, output.rsplit("Loaded image: ", 1)[1].strip()


def _inspect(engine: Engine, *names: str) -> Any:
    return json.loads(engine.docker("inspect", *names).stdout)[0]


@pytest.fixture
def containers(docker_engine: Engine | None) -> Iterator[list[str]]:
    """IDs of containers a test starts; removed afterwards whatever happened."""
    started: list[str] = []
    yield started
    if docker_engine is not None and started:
        docker_engine.docker("rm", "--force", "--volumes", *started)


def _run(engine: Engine, containers: list[str], *args: str) -> str:
    container = engine.docker("run", "--detach", *args).stdout.strip()
    containers.append(container)
    return container


def test_pause_stops_on_term_and_reaps_orphans(
    docker_engine: Engine | None, containers: list[str]
) -> None:
    engine, image = _loaded(docker_engine, "pause")
    config = _inspect(engine, image)["Config"]
    assert (config["User"], config["Entrypoint"]) == ("65535:65535", ["/pause"])
    pause = _run(engine, containers, "--read-only", image)
    # A process in the pod's PID namespace leaves an orphan that exits after a second: the
    # orphan becomes the pause process's child, and a zombie if it is not reaped.
    probe = (
        "(sleep 1 &); sleep 3; "
        "for s in /proc/[0-9]*/stat; do read -r _ c st _ < $s; echo $c $st; done"
    )
    seen = engine.docker(
        "run", "--rm", f"--pid=container:{pause}", "--entrypoint", "bash", engine.image, "-c", probe
    ).stdout.split("\n")
    assert "(pause) S" in seen, seen
    assert not [line for line in seen if line.endswith(" Z")], seen
    started = time.monotonic()
    engine.docker("stop", "--time", "20", pause)
    # Stopped by TERM, not killed after the 20 s grace period, and with a clean exit.
    assert time.monotonic() - started < 10
    assert _inspect(engine, pause)["State"]["ExitCode"] == 0


def _statefulset_container() -> tuple[dict[str, Any], dict[str, Any]]:
    args = InClusterPostgresArgs(extra_databases=["mlflow_auth"])
    capture = run_under_mocks(lambda: InClusterPostgres("mlflow-postgres", args))
    pod = capture.one("kubernetes:apps/v1:StatefulSet").inputs["spec"]["template"]["spec"]
    return pod, pod["containers"][0]


def _as_the_pod_runs(pod: dict[str, Any], container: dict[str, Any], password: str) -> list[str]:
    """`docker run` flags for the rendered container: its UID, read-only root, env, volumes."""
    flags = [f"--user={int(pod['securityContext']['runAsUser'])}"]
    if container["securityContext"]["readOnlyRootFilesystem"]:
        flags.append("--read-only")
    for var in container["env"]:
        flags.append(f"--env={var['name']}={var.get('value', password)}")
    empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    for mount in container["volumeMounts"]:
        kind = "tmpfs" if mount["name"] in empty_dirs else "volume"
        flags.append(f"--mount=type={kind},destination={mount['mountPath']}")
    return flags


def _wait_for(engine: Engine, container: str, probe: list[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        ready = engine.docker("exec", container, *probe, check=False).returncode == 0
        if ready:
            return
        if time.monotonic() > deadline:
            logs = engine.docker("logs", container)
            raise TimeoutError(f"{probe} never passed:\n{logs.stdout}{logs.stderr}")
        time.sleep(0.5)


def test_postgres_image_runs_as_the_statefulset_runs_it(
    docker_engine: Engine | None, containers: list[str]
) -> None:
    engine, image = _loaded(docker_engine, "postgres")
    pod, spec = _statefulset_container()
    password = "pod-password-0123456789"
    flags = _as_the_pod_runs(pod, spec, password)
    container = _run(engine, containers, *flags, "--publish=127.0.0.1::5432", image)
    probe = spec["readinessProbe"]["exec"]["command"]
    assert probe[0] == "pg_isready"
    _wait_for(engine, container, probe)
    # The postStart hook, as rendered, over the socket in the run emptyDir.
    hook = spec["lifecycle"]["postStart"]["exec"]["command"]
    engine.docker("exec", container, *hook)

    logs = engine.docker("logs", container)
    assert "database system is ready to accept connections" in logs.stdout + logs.stderr
    pgdata = next(v["value"] for v in spec["env"] if v["name"] == "PGDATA")
    version = engine.docker("exec", container, "cat", f"{pgdata}/PG_VERSION").stdout
    assert version.strip() == "15"
    port = engine.docker("port", container, "5432/tcp").stdout.split(":")[-1].strip()
    dsn = f"host={services.LOOPBACK} port={port} user=mlflow dbname=mlflow"
    with psycopg2.connect(f"{dsn} password={password}") as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'mlflow%' ORDER BY 1")
        assert [row[0] for row in cur.fetchall()] == ["mlflow", "mlflow_auth"]
        cur.execute("SELECT current_user, setting FROM pg_settings WHERE name = 'listen_addresses'")
        assert cur.fetchone() == ("mlflow", "*")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(f"{dsn} password=wrong")


def _in_mlflow_image(engine: Engine, image: str, *command: str) -> str:
    """`command` in the image as our pods run it: UID 10001, read-only root, HOME in /tmp."""
    flags = ["--rm", f"--user={MLFLOW_UID}:{MLFLOW_UID}", "--read-only", "--tmpfs=/tmp"]
    done = engine.docker("run", *flags, "--env=HOME=/tmp", image, *command)
    return done.stdout.strip()


def test_mlflow_image_has_what_the_pods_run(
    docker_engine: Engine | None, stacks: dict[str, Capture]
) -> None:
    engine, image = _loaded(docker_engine, "mlflow")
    assert image == f"localhost/mlflow:v{MLFLOW_VERSION}-full-standin"
    config = _inspect(engine, image)["Config"]
    # Like the official image: no USER (the pod picks it) and no ENTRYPOINT.
    assert (config["User"], config["Entrypoint"]) == ("", None)
    pod = stacks["dev"].one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    # The MLflow image's containers; the Cloud SQL Auth Proxy runs its own image's entrypoint.
    mlflow_containers = [
        c
        for c in [*pod["initContainers"], *pod["containers"]]
        if c["image"] != versions.CLOUD_SQL_PROXY_IMAGE
    ]
    assert len(mlflow_containers) < len([*pod["initContainers"], *pod["containers"]])
    commands = {c["command"][0] for c in mlflow_containers}
    assert commands >= {"mlflow", "python"}
    for command in sorted(commands):
        where = _in_mlflow_image(engine, image, "sh", "-c", f"command -v {command}")
        assert where == f"/usr/local/bin/{command}"
    version = _in_mlflow_image(engine, image, "mlflow", "--version")
    assert version.endswith(f"version {MLFLOW_VERSION}")
    modules = (
        "psycopg2, google.cloud.storage, flask_wtf, prometheus_flask_exporter, "
        "prometheus_client.multiprocess, mlflow.server.auth.sqlalchemy_store"
    )
    assert _in_mlflow_image(engine, image, "python", "-c", f"import {modules}; print('ok')") == "ok"


def test_mlflow_image_serves_on_a_read_only_root(
    docker_engine: Engine | None,
    containers: list[str],
    postgres: services.Postgres,
) -> None:
    engine, image = _loaded(docker_engine, "mlflow")
    port = services.free_port()
    uri = (
        f"postgresql+psycopg2://{postgres.superuser}:{postgres.superuser_password}"
        f"@{postgres.host}:{postgres.port}/postgres?sslmode=require"
    )
    flags = [f"--user={MLFLOW_UID}:{MLFLOW_UID}", "--read-only", "--tmpfs=/tmp", "--network=host"]
    server = ["mlflow", "server", "--host", services.LOOPBACK, "--port", str(port)]
    server += ["--backend-store-uri", uri, "--artifacts-destination", "/tmp/artifacts"]
    server += ["--serve-artifacts", "--expose-prometheus", "/tmp/metrics"]
    container = _run(engine, containers, *flags, "--env=HOME=/tmp", image, *server)
    deadline = time.monotonic() + 180
    while True:
        try:
            health = requests.get(f"http://{services.LOOPBACK}:{port}/health", timeout=5)
            if health.ok:
                break
        except requests.ConnectionError:
            pass
        assert _inspect(engine, container)["State"]["Running"], engine.docker("logs", container)
        assert time.monotonic() < deadline, "mlflow server never answered /health"
        time.sleep(1)
    assert health.text == "OK"
    metrics = requests.get(f"http://{services.LOOPBACK}:{port}/metrics", timeout=5)
    assert metrics.ok and "mlflow" in metrics.text
