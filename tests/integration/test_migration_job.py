"""The rendered migration Job migrates a real PostgreSQL, and the rendered server then starts on
it without migrating.

The dev stack is rendered under mocks; the Job's containers (`mlflow db upgrade` and the
basic-auth user store's upgrade) run with the env the kubelet would give them, with only the
database's host and port swapped (tests/integration/test_mlflow_workload.py). Two databases:

- an empty one (a new stack): the Job brings both schemas to MLflow 3.17.2's head revisions;
- one made by the previous minor, MLflow 3.16.1 (installed in its own venv under .tools/, cold
  about 50 s, then reused), with a run logged by it: the rendered 3.17.2 server started on it
  answers no tracking request ("out-of-date database schema") and leaves the schema alone, so
  the server does not migrate by itself; the Job migrates it, and the server then reads the old
  run.

Either way the alembic revision is the head before the server starts and still after it stops.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import pytest

from tests.harness import ROOT, run_stack
from tests.integration import services
from tests.integration.test_mlflow_workload import (
    PYTHON,
    RenderedWorkload,
    local_auth_config,
    local_backend_uri,
    log_in,
    resolve_to_loopback,
    run_migration_job,
    serving,
)

pytestmark = pytest.mark.integration

PREVIOUS_MINOR = "3.16.1"
PREVIOUS_VENV = ROOT / ".tools" / f"mlflow-{PREVIOUS_MINOR}"
# Tracking and auth schemas each keep their alembic revision in a table of their own.
TRACKING_VERSION_TABLE = "alembic_version"
AUTH_VERSION_TABLE = "alembic_version_auth"
# What MLflow and Alembic log when a process creates or upgrades the schema.
MIGRATION_LOG_LINES = ("Creating initial MLflow database tables", "Running upgrade")

LOG_A_RUN = """\
import sys
from mlflow.tracking import MlflowClient

client = MlflowClient(tracking_uri=sys.argv[1])
experiment = client.create_experiment("logged-before-the-upgrade")
run = client.create_run(experiment, run_name="old")
client.log_param(run.info.run_id, "alpha", "0.5")
client.log_metric(run.info.run_id, "loss", 0.25)
client.set_tag(run.info.run_id, "written_by", sys.argv[2])
client.set_terminated(run.info.run_id)
print(run.info.run_id)
"""

HEAD_REVISION = """\
from mlflow.store.db.utils import _get_latest_schema_revision

print(_get_latest_schema_revision())
"""


def previous_mlflow() -> Path:
    """The previous minor's interpreter, installed once (pip from the package index)."""
    python = PREVIOUS_VENV / "bin" / "python"
    probe = [str(python), "-c", "import mlflow, psycopg2; print(mlflow.__version__)"]
    if python.exists() and subprocess.run(probe, capture_output=True, text=True).stdout.strip() == (
        PREVIOUS_MINOR
    ):
        return python
    venv.create(PREVIOUS_VENV, with_pip=True, clear=True)
    install = [str(python), "-m", "pip", "install", "-q", f"mlflow=={PREVIOUS_MINOR}"]
    result = subprocess.run([*install, "psycopg2-binary"], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot install mlflow {PREVIOUS_MINOR}: {result.stderr[-500:]}")
    return python


def head_revision(python: Path | str) -> str:
    result = subprocess.run(
        [str(python), "-W", "ignore", "-c", HEAD_REVISION], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def revision(pg: services.Postgres, database: Any, table: str) -> str | None:
    conn = psycopg2.connect(pg.dsn(database.path.lstrip("/"), database.username, database.password))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", (table,))
            if cur.fetchone() == (None,):
                return None
            cur.execute(f"SELECT version_num FROM {table}")
            rows = cur.fetchall()
    finally:
        conn.close()
    assert len(rows) == 1, rows
    return str(rows[0][0])


class Stack:
    """The dev stack rendered once, and where its databases and bucket are."""

    def __init__(self) -> None:
        self.workload = RenderedWorkload(run_stack("dev"))
        _, env = self.workload.command("db-migrate")
        self.backend = urlsplit(env["MLFLOW_BACKEND_STORE_URI"])

    def fresh_databases(self, pg: services.Postgres, gcs_emulator: Any, directory: Path) -> Any:
        """Empty tracking and auth databases and the bucket, as a new stack has them."""
        pg.reset_database(
            self.backend.path.lstrip("/"), self.backend.username or "", self.backend.password or ""
        )
        auth = local_auth_config(self.workload, pg, directory / "auth-config")
        assert auth is not None, "every stack has the basic-auth login"
        pg.reset_database(
            auth.database.path.lstrip("/"), auth.database.username, auth.database.password
        )
        destination = self.workload.command("mlflow")[0]
        bucket = urlsplit(destination[destination.index("--artifacts-destination") + 1]).netloc
        client = gcs_emulator.client()
        if client.lookup_bucket(bucket) is None:
            client.create_bucket(bucket)
        return auth

    def migrate(self, pg: services.Postgres, auth: Any, directory: Path) -> list[str]:
        home = directory / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = {"PATH": str(Path(sys.executable).parent), "HOME": str(home)}
        return run_migration_job(
            self.workload, pg, env, {"MLFLOW_AUTH_CONFIG_PATH": str(auth.config_path)}
        )


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack()


def serve_without_migrating(
    stack: Stack,
    pg: services.Postgres,
    gcs_emulator: Any,
    directory: Path,
    monkeypatch: pytest.MonkeyPatch,
    use: Callable[[Any], None],
) -> None:
    """The rendered server on the migrated databases: it answers, and the schema revision and
    the server's log show it changed nothing."""
    before = revision(pg, stack.backend, TRACKING_VERSION_TABLE)
    with serving(stack.workload, pg, gcs_emulator, directory, fresh=False, migrate=False) as s:
        log_in(monkeypatch, s)
        use(s)
    log = (directory / "server.log").read_text()
    assert [line for line in MIGRATION_LOG_LINES if line in log] == []
    assert revision(pg, stack.backend, TRACKING_VERSION_TABLE) == before


def old_database(stack: Stack, pg: services.Postgres, gcs_emulator: Any, directory: Path) -> Any:
    """Databases as the previous minor left them, with a run it logged: (auth, run id)."""
    old_python = previous_mlflow()
    auth = stack.fresh_databases(pg, gcs_emulator, directory)
    local_uri = local_backend_uri(stack.backend.geturl(), pg)
    logged = subprocess.run(
        [str(old_python), "-W", "ignore", "-c", LOG_A_RUN, local_uri, PREVIOUS_MINOR],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert logged.returncode == 0, logged.stderr[-3000:]
    assert revision(pg, stack.backend, TRACKING_VERSION_TABLE) == head_revision(old_python)
    return auth, logged.stdout.strip().splitlines()[-1]


def test_an_empty_database_is_migrated_by_the_job_and_served_as_is(
    stack: Stack,
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = head_revision(PYTHON)
    auth = stack.fresh_databases(postgres, gcs, tmp_path)
    assert revision(postgres, stack.backend, TRACKING_VERSION_TABLE) is None

    assert stack.migrate(postgres, auth, tmp_path / "job") == ["db-migrate", "auth-db-migrate"]
    assert revision(postgres, stack.backend, TRACKING_VERSION_TABLE) == head
    auth_head = revision(postgres, auth.database, AUTH_VERSION_TABLE)
    assert auth_head is not None

    serve_without_migrating(stack, postgres, gcs, tmp_path / "pod", monkeypatch, log_and_read)
    assert revision(postgres, auth.database, AUTH_VERSION_TABLE) == auth_head


def test_a_database_of_the_previous_minor_is_migrated_and_its_run_kept(
    stack: Stack,
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = head_revision(PYTHON)
    assert head_revision(previous_mlflow()) != head, "the two minors must differ in schema"
    auth, run_id = old_database(stack, postgres, gcs, tmp_path)

    stack.migrate(postgres, auth, tmp_path / "job")
    assert revision(postgres, stack.backend, TRACKING_VERSION_TABLE) == head

    def read_the_old_run(server: Any) -> None:
        with resolve_to_loopback(server.host):
            old = _client(server).get_run(run_id)
        assert old.data.params == {"alpha": "0.5"}
        assert old.data.metrics == {"loss": 0.25}
        assert old.data.tags["written_by"] == PREVIOUS_MINOR
        assert old.info.status == "FINISHED"
        log_and_read(server)

    serve_without_migrating(stack, postgres, gcs, tmp_path / "pod", monkeypatch, read_the_old_run)


def test_without_the_job_every_new_pod_would_migrate_by_itself(
    stack: Stack,
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Why the Job comes first: MLflow 3.17.2 finds a table of its schema missing in 3.16.1's
    and creates and upgrades the schema at startup, in every pod the rolling update starts, with
    no backup. It also shows that the log check above sees a migration when there is one."""
    old_database(stack, postgres, gcs, tmp_path)
    pod = tmp_path / "pod"
    with serving(stack.workload, postgres, gcs, pod, fresh=False, migrate=False) as s:
        log_in(monkeypatch, s)
        log_and_read(s)
    log = (pod / "server.log").read_text()
    assert [line for line in MIGRATION_LOG_LINES if line in log] != []
    assert revision(postgres, stack.backend, TRACKING_VERSION_TABLE) == head_revision(PYTHON)


def _client(server: Any) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"http://{server.host}:{server.port}")


def log_and_read(server: Any) -> None:
    with resolve_to_loopback(server.host):
        client = _client(server)
        experiment = client.create_experiment("after-the-migration")
        run_id = client.create_run(experiment).info.run_id
        client.log_metric(run_id, "loss", 0.125)
        assert client.get_run(run_id).data.metrics == {"loss": 0.125}
