"""The garbage collector's rendered CronJob container purges a deleted run and its artifact.

The dev stack is rendered with `mlflow.gc_older_than: 1s`; the server runs as rendered
(tests/integration/test_mlflow_workload.py). The CronJob's container is resolved from the
rendered ConfigMap and Secrets like the server's, and run as `mlflow gc` in this process, so its
MLFLOW_TRACKING_URI (the Service's cluster name) resolves to the server on loopback; only the
database's host and port and the Service's port are swapped.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from click.testing import CliRunner

from tests.harness import run_stack, stack_config, with_overrides
from tests.integration.test_mlflow_workload import (
    RenderedWorkload,
    container_env,
    expand,
    local_backend_uri,
    log_in,
    resolve_to_loopback,
    serving,
)

pytestmark = pytest.mark.integration


def _gc_command(capture, workload: RenderedWorkload) -> tuple[list[str], dict[str, str]]:
    cron = capture.one("kubernetes:batch/v1:CronJob").inputs
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "gc")
    env = container_env(container, workload.config_maps, workload.secrets)
    return [*container["command"], *(expand(a, env) for a in container["args"])], env


def test_gc_purges_a_deleted_run_and_its_artifact_and_keeps_the_rest(
    postgres,
    gcs,
    tmp_path,
    monkeypatch,
):
    from mlflow.cli import cli
    from mlflow.tracking import MlflowClient

    capture = run_stack("dev", with_overrides(stack_config("dev"), mlflow__gc_older_than="1s"))
    workload = RenderedWorkload(capture)
    argv, env = _gc_command(capture, workload)
    assert argv[:3] == ["mlflow", "gc", "--backend-store-uri"]
    assert argv[-2:] == ["--older-than", "1s"]
    service = urlsplit(env["MLFLOW_TRACKING_URI"])
    note = tmp_path / "note.txt"
    note.write_text("artifact of a run\n")

    with serving(workload, postgres, gcs, tmp_path) as server:
        log_in(monkeypatch, server)
        with resolve_to_loopback(service.hostname or ""):
            client = MlflowClient(tracking_uri=f"http://{workload.host}:{server.port}")
            with resolve_to_loopback(workload.host):
                experiment = client.create_experiment("gc")
                runs = [client.create_run(experiment).info.run_id for _ in range(2)]
                for run_id in runs:
                    client.log_artifact(run_id, str(note), artifact_path="notes")
                deleted, kept = runs
                client.delete_run(deleted)
            time.sleep(2)  # older than --older-than
            backend = local_backend_uri(argv[3], postgres)
            monkeypatch.setenv(
                "MLFLOW_TRACKING_URI",
                urlunsplit(service._replace(netloc=f"{service.hostname}:{server.port}")),
            )
            for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
                monkeypatch.setenv(name, env[name])
            result = CliRunner().invoke(cli, [*argv[1:3], backend, *argv[4:]])
        assert result.exit_code == 0, (result.output, result.exception)

    blobs = [b.name for b in gcs.client().list_blobs(server.bucket_name)]
    assert not [b for b in blobs if deleted in b], "the deleted run's artifact is gone"
    assert [b for b in blobs if kept in b and b.endswith("notes/note.txt")]
    db = server.backend
    conn = psycopg2.connect(postgres.dsn(db.path.lstrip("/"), db.username, db.password))
    with conn, conn.cursor() as cur:
        cur.execute("SELECT run_uuid FROM runs WHERE run_uuid IN %s", (tuple(runs),))
        assert {row[0] for row in cur.fetchall()} == {kept}
    conn.close()
