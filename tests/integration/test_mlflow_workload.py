"""The rendered MLflow workload really runs: real PostgreSQL, real MLflow, emulated GCS.

For each stack shape the test takes the migration Job's, init and server containers exactly as
the component rendered them, resolves their env from the rendered ConfigMap and Secrets the way
the kubelet does (`envFrom`, `secretKeyRef`, `$(VAR)` expansion), swaps only hosts and ports (and
the GCS endpoint, and the volume mount paths), then runs the migration Job's containers, the init
container (with the basic-auth login, the admin user) and the server, and uses them with the
MLflow client through the proxied artifact endpoint, logged in as the rendered admin.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from components.workload.metrics import METRICS_DIR
from tests.harness import Capture
from tests.integration import services
from tests.manifests.render import kubernetes_objects

pytestmark = pytest.mark.integration

MLFLOW = str(Path(sys.executable).parent / "mlflow")
# The image's `python`, which the `auth-admin` init container and `auth-db-migrate` run.
PYTHON = sys.executable
AUTH_VOLUME = "auth-config"


# --- the kubelet's part: env resolution ----------------------------------------------------


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: known names are replaced, `$$` escapes, others stay."""
    return re.sub(
        r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
        lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
        text,
    )


def container_env(
    container: dict[str, Any],
    config_maps: dict[str, dict[str, str]],
    secrets: dict[str, dict[str, str]],
) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = expand(var["value"], env)
            continue
        ref = var["valueFrom"]
        if "secretKeyRef" in ref:
            env[var["name"]] = secrets[ref["secretKeyRef"]["name"]][ref["secretKeyRef"]["key"]]
        else:
            env[var["name"]] = config_maps[ref["configMapKeyRef"]["name"]][
                ref["configMapKeyRef"]["key"]
            ]
    return env


class RenderedWorkload:
    def __init__(self, capture: Capture) -> None:
        deployment = capture.one("kubernetes:apps/v1:Deployment").inputs
        self.pod = deployment["spec"]["template"]["spec"]
        self.job_pod = capture.one("kubernetes:batch/v1:Job").inputs["spec"]["template"]["spec"]
        ns = deployment["metadata"]["namespace"]
        objects = [o for o in kubernetes_objects(capture) if o["metadata"].get("namespace") == ns]
        self.config_maps = {
            o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "ConfigMap"
        }
        self.secrets = {
            o["metadata"]["name"]: o["stringData"] for o in objects if o["kind"] == "Secret"
        }
        self.host = capture.one("kubernetes:networking.k8s.io/v1:Ingress").inputs["spec"]["rules"][
            0
        ]["host"]

    def container(self, name: str) -> dict[str, Any]:
        return next(
            c
            for c in [
                *self.pod.get("initContainers", []),
                *self.pod["containers"],
                *self.job_pod["containers"],
            ]
            if c["name"] == name
        )

    def command(self, name: str) -> tuple[list[str], dict[str, str]]:
        container = self.container(name)
        env = container_env(container, self.config_maps, self.secrets)
        argv = [*container["command"], *(expand(a, env) for a in container["args"])]
        return argv, env

    @property
    def readiness_path(self) -> str:
        return str(self.container("mlflow")["readinessProbe"]["httpGet"]["path"])

    def volume(self, name: str) -> dict[str, Any] | None:
        return next((v for v in self.pod.get("volumes", []) if v["name"] == name), None)

    def mount_path(self, container: str, volume: str) -> str:
        mounts = self.container(container).get("volumeMounts", [])
        return str(next(m["mountPath"] for m in mounts if m["name"] == volume))


# --- the only substitutions: hosts, ports, the GCS endpoint, the volume mount ----------------


class DatabaseAddress(Protocol):
    """Where a database listens: a local server (services.Postgres), or nowhere at all."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...


def local_backend_uri(uri: str, pg: DatabaseAddress) -> str:
    parts = urlsplit(uri)
    credentials = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{pg.host}:{pg.port}"))


def local_env(env: dict[str, str], pg: DatabaseAddress) -> dict[str, str]:
    """A container's environment with its database URIs pointed at the local server."""
    return {
        k: local_backend_uri(v, pg) if v.startswith("postgresql") else v for k, v in env.items()
    }


def local_database_uris(text: str, pg: services.Postgres) -> str:
    """Every PostgreSQL URI in a file, pointed at the local server (only host and port)."""
    return re.sub(r"postgresql[^\s]*", lambda m: local_backend_uri(m.group(0), pg), text)


def substitute(
    argv: list[str],
    pg: services.Postgres,
    port: int,
    mounts: dict[str, str],
) -> list[str]:
    out = []
    for i, arg in enumerate(argv):
        previous = argv[i - 1] if i else ""
        if arg.startswith("postgresql"):
            arg = local_backend_uri(arg, pg)
        elif previous == "--host":
            arg = services.LOOPBACK
        elif previous == "--port":
            arg = str(port)
        elif previous in ("--artifacts-destination", "--expose-prometheus") and arg in mounts:
            arg = mounts[arg]
        out.append(arg)
    return out


@contextlib.contextmanager
def resolve_to_loopback(hostname: str) -> Iterator[None]:
    """What the README's /etc/hosts line does, for this process only."""
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return original(services.LOOPBACK if host == hostname else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = original


@dataclass
class Serving:
    """A rendered server running on loopback, and where its data goes."""

    port: int
    host: str
    backend: Any
    bucket_name: str | None
    artifacts_root: Path
    # With the basic-auth login: the admin's (username, password) and the user store's database.
    admin: tuple[str, str] | None = None
    auth_database: Any = None


@dataclass
class LocalAuth:
    """The pod's basic-auth ini, written where the test can read it, and what it names."""

    config_path: Path
    database: Any
    admin_username: str


def local_auth_config(
    workload: RenderedWorkload, postgres: services.Postgres, directory: Path
) -> LocalAuth | None:
    """What the kubelet mounts from the auth Secret, with the database's host and port swapped."""
    volume = workload.volume(AUTH_VOLUME)
    if volume is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    data = workload.secrets[volume["secret"]["secretName"]]
    for item in volume["secret"]["items"]:
        (directory / item["path"]).write_text(local_database_uris(data[item["key"]], postgres))
    mount_path = workload.mount_path("mlflow", AUTH_VOLUME)
    _, env = workload.command("mlflow")
    config_file = env["MLFLOW_AUTH_CONFIG_PATH"]
    assert config_file.startswith(mount_path + "/"), (config_file, mount_path)
    config_path = directory / config_file.removeprefix(mount_path + "/")
    # Read as MLflow reads it (configparser, interpolation and all).
    ini = configparser.ConfigParser()
    assert ini.read(config_path) == [str(config_path)]
    section = ini["mlflow"]
    return LocalAuth(config_path, urlsplit(section["database_uri"]), section["admin_username"])


def run_migration_job(
    workload: RenderedWorkload,
    postgres: services.Postgres,
    env: dict[str, str],
    mounted: dict[str, str],
) -> list[str]:
    """The migration Job's containers as rendered (the schema and, with the basic-auth login,
    the user store), one after the other; their names. `mounted`: the auth file's local path."""
    names = []
    for container in workload.job_pod["containers"]:
        argv, container_env = workload.command(container["name"])
        executable = MLFLOW if argv[0] == "mlflow" else PYTHON
        result = subprocess.run(
            [executable, *substitute(argv, postgres, 0, {})[1:]],
            env={**env, **local_env(container_env, postgres), **mounted},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, (container["name"], result.stderr[-3000:])
        names.append(container["name"])
    return names


@contextlib.contextmanager
def serving(
    workload: RenderedWorkload,
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
    scratch: Path | None = None,
    fresh: bool = True,
    migrate: bool = True,
) -> Iterator[Serving]:
    """Run the rendered migration Job (`migrate`), the init container (the admin user with the
    basic-auth login), then the rendered server until the end of the block. `scratch`: the
    directory that plays the pod's /tmp emptyDir (TMPDIR). `fresh=False`: another pod of the
    same Deployment, on the databases and bucket an earlier `serving` made (which may still be
    running)."""
    migrate_argv, migrate_env = workload.command("db-migrate")
    server_argv, server_env = workload.command("mlflow")
    assert migrate_argv[:2] == ["python", "-c"] and "upgrade" in migrate_argv[2]
    assert server_argv[:2] == ["mlflow", "server"] and "--serve-artifacts" in server_argv

    backend = urlsplit(migrate_env["MLFLOW_BACKEND_STORE_URI"])
    if fresh:
        postgres.reset_database(
            backend.path.lstrip("/"), backend.username or "", backend.password or ""
        )
    auth = local_auth_config(workload, postgres, tmp_path / AUTH_VOLUME)
    if auth is not None and fresh:
        # What the in-cluster database's hook (EXTRA_DATABASES) or Cloud SQL creates.
        postgres.reset_database(
            auth.database.path.lstrip("/"), auth.database.username, auth.database.password
        )
    artifacts_root = tmp_path / "artifacts-volume"
    artifacts_root.mkdir(exist_ok=True)
    # The pod's volumes, as local directories: the artifacts' and the exporter's emptyDir.
    mounts = {"/mlartifacts": str(artifacts_root), METRICS_DIR: str(tmp_path / "metrics")}
    destination = server_argv[server_argv.index("--artifacts-destination") + 1]
    bucket_name = None
    if destination.startswith("gs://"):
        bucket_name = urlsplit(destination).netloc
        if fresh:
            gcs.client().create_bucket(bucket_name)

    port = services.free_port()
    base_env = {
        "PATH": f"{Path(MLFLOW).parent}:{os.environ.get('PATH', '')}",
        "STORAGE_EMULATOR_HOST": gcs.endpoint,
        "GOOGLE_CLOUD_PROJECT": "test",
        "MLFLOW_TRACKING_URI": "",
    }
    tmp_home = tmp_path / "home"
    tmp_home.mkdir(exist_ok=True)
    # The auth Secret's file where the pod mounts it: here, the file written above.
    mounted = {"MLFLOW_AUTH_CONFIG_PATH": str(auth.config_path)} if auth else {}
    process_env = {**base_env, **local_env(server_env, postgres), "HOME": str(tmp_home), **mounted}
    # prometheus_client writes where PROMETHEUS_MULTIPROC_DIR says: the pod's emptyDir, here.
    process_env = {k: mounts.get(v, v) for k, v in process_env.items()}
    if scratch is not None:
        process_env["TMPDIR"] = str(scratch)

    if migrate:
        run_migration_job(workload, postgres, {**base_env, "HOME": str(tmp_home)}, mounted)

    admin = None
    if auth is not None:
        admin_argv, admin_env = workload.command("auth-admin")
        assert admin_argv[:2] == ["python", "-c"]
        apply_admin = subprocess.run(
            [PYTHON, *admin_argv[1:]],
            env={**base_env, **admin_env, "HOME": str(tmp_home), **mounted},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert apply_admin.returncode == 0, apply_admin.stderr[-3000:]
        admin = (auth.admin_username, admin_env["MLFLOW_AUTH_ADMIN_PASSWORD"])

    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [MLFLOW, *substitute(server_argv, postgres, port, mounts)[1:]],
        env=process_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_ready(f"http://{services.LOOPBACK}:{port}{workload.readiness_path}", server, tmp_path)
        yield Serving(
            port,
            workload.host,
            backend,
            bucket_name,
            artifacts_root,
            admin,
            auth.database if auth else None,
        )
    finally:
        services.stop_process_group(server)
        log.close()
    assert services.port_is_free(port), "the server left its port bound"


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_rendered_workload_serves_mlflow(
    stack: str,
    stacks: dict[str, Capture],
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workload = RenderedWorkload(stacks[stack])
    with serving(workload, postgres, gcs, tmp_path) as server:
        log_in(monkeypatch, server)
        _check_allowed_hosts(server.port, workload.host, server.admin)
        run_id = _log_a_run(workload.host, server.port, tmp_path)

    _assert_run_in_postgres(postgres, server.backend, run_id)
    if server.bucket_name:
        blobs = {b.name: b for b in gcs.client().list_blobs(server.bucket_name)}
        key = next((n for n in blobs if n.endswith(f"{run_id}/artifacts/notes/hello.txt")), None)
        assert key and key.startswith("mlflow-artifacts/"), sorted(blobs)
        assert blobs[key].download_as_bytes() == b"hello from the platform test\n"
    else:
        files = list(server.artifacts_root.rglob("hello.txt"))
        assert len(files) == 1 and run_id in str(files[0])


def log_in(monkeypatch: pytest.MonkeyPatch, server: Serving) -> None:
    """The MLflow client, and so this test, as the rendered admin (with the basic-auth login)."""
    if server.admin is not None:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", server.admin[0])
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", server.admin[1])


def _wait_ready(url: str, server: subprocess.Popen[bytes], tmp_path: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError((tmp_path / "server.log").read_text()[-4000:])
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError("server not ready: " + (tmp_path / "server.log").read_text()[-4000:])


def _check_allowed_hosts(port: int, ingress_host: str, auth: tuple[str, str] | None) -> None:
    url = f"http://{services.LOOPBACK}:{port}/api/2.0/mlflow/experiments/search?max_results=1"
    ok = requests.get(url, headers={"Host": ingress_host}, auth=auth, timeout=10)
    assert ok.status_code == 200
    rejected = requests.get(url, headers={"Host": "attacker.example.com"}, auth=auth, timeout=10)
    assert rejected.status_code == 403, rejected.text


def _log_a_run(host: str, port: int, tmp_path: Path) -> str:
    import mlflow
    from mlflow.tracking import MlflowClient

    note = tmp_path / "hello.txt"
    note.write_text("hello from the platform test\n")
    with resolve_to_loopback(host):
        client = MlflowClient(tracking_uri=f"http://{host}:{port}")
        experiment_id = client.create_experiment(f"platform-{uuid.uuid4().hex[:8]}")
        run = client.create_run(experiment_id)
        run_id: str = run.info.run_id
        client.log_param(run_id, "alpha", "0.5")
        client.log_metric(run_id, "loss", 0.125)
        client.log_artifact(run_id, str(note), artifact_path="notes")
        client.set_terminated(run_id)
        fetched = client.get_run(run_id)
        assert fetched.data.params == {"alpha": "0.5"}
        assert fetched.data.metrics == {"loss": 0.125}
        assert fetched.info.artifact_uri.startswith("mlflow-artifacts:/")
        downloaded = mlflow.artifacts.download_artifacts(
            run_id=run_id,
            artifact_path="notes/hello.txt",
            dst_path=str(tmp_path / "dl"),
            tracking_uri=f"http://{host}:{port}",
        )
        assert Path(downloaded).read_text() == "hello from the platform test\n"
    return run_id


def _assert_run_in_postgres(pg: services.Postgres, backend: Any, run_id: str) -> None:
    import psycopg2

    conn = psycopg2.connect(pg.dsn(backend.path.lstrip("/"), backend.username, backend.password))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT status FROM runs WHERE run_uuid = %s", (run_id,))
            assert cur.fetchone() == ("FINISHED",)
            cur.execute("SELECT value FROM metrics WHERE run_uuid = %s AND key = 'loss'", (run_id,))
            assert cur.fetchone() == (0.125,)
            cur.execute("SELECT value FROM params WHERE run_uuid = %s AND key = 'alpha'", (run_id,))
            assert cur.fetchone() == ("0.5",)
    finally:
        conn.close()
