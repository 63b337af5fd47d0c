"""The garbage collector's rendered CronJob container purges a deleted run and its artifact.

The stack is rendered with `mlflow.gc_older_than: 1s`; the server runs as rendered
(tests/integration/test_mlflow_workload.py) to create two runs, delete one and log an artifact
to each. The CronJob's container is then run as rendered (`python -c <wrapper> --older-than 1s`)
in a process of its own, its env resolved from the rendered ConfigMap and Secrets like the
server's, after the server has stopped: the collector needs the database and the artifact store
only, no server and no MLflow login. Only the database's host and port, the GCS endpoint and the
volume's mount path are swapped.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from tests.harness import run_stack, stack_config, with_overrides
from tests.integration import services
from tests.integration.test_mlflow_workload import (
    PYTHON,
    RenderedWorkload,
    container_env,
    local_env,
    log_in,
    resolve_to_loopback,
    serving,
)

pytestmark = pytest.mark.integration


def _gc_container(capture: Any) -> dict[str, Any]:
    cron = capture.one("kubernetes:batch/v1:CronJob").inputs
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return dict(next(c for c in pod["containers"] if c["name"] == "gc"))


def _artifacts(server: Any, gcs: Any) -> list[str]:
    if server.bucket_name:
        return [b.name for b in gcs.client().list_blobs(server.bucket_name)]
    return [str(p) for p in server.artifacts_root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("stack", ["dev", "local"])
def test_gc_purges_a_deleted_run_and_its_artifact_and_keeps_the_rest(
    stack: str,
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow.tracking import MlflowClient

    capture = run_stack(stack, with_overrides(stack_config(stack), mlflow__gc_older_than="1s"))
    workload = RenderedWorkload(capture)
    container = _gc_container(capture)
    env = container_env(container, workload.config_maps, workload.secrets)
    argv = [*container["command"], *container["args"]]
    assert argv[:2] == ["python", "-c"] and argv[-2:] == ["--older-than", "1s"]
    assert not [k for k in env if k.startswith(("MLFLOW_TRACKING_", "MLFLOW_AUTH_"))], env
    note = tmp_path / "note.txt"
    note.write_text("artifact of a run\n")

    with serving(workload, postgres, gcs, tmp_path) as server:
        log_in(monkeypatch, server)
        with resolve_to_loopback(workload.host):
            client = MlflowClient(tracking_uri=f"http://{workload.host}:{server.port}")
            experiment = client.create_experiment("gc")
            runs = [client.create_run(experiment).info.run_id for _ in range(2)]
            for run_id in runs:
                client.log_artifact(run_id, str(note), artifact_path="notes")
            deleted, kept = runs
            client.delete_run(deleted)
    assert [a for a in _artifacts(server, gcs) if deleted in a]
    time.sleep(2)  # older than --older-than

    local = local_env(env, postgres)
    if not server.bucket_name:  # the volume, where the pod mounts it
        local["TRACKING_ARTIFACTS_DESTINATION"] = str(server.artifacts_root)
    home = tmp_path / "gc-home"
    home.mkdir()
    result = subprocess.run(
        [PYTHON, *argv[1:]],
        env={
            "PATH": str(Path(PYTHON).parent),
            "HOME": str(home),
            "STORAGE_EMULATOR_HOST": gcs.endpoint,
            "GOOGLE_CLOUD_PROJECT": "test",
            **local,
        },
        capture_output=True,
        text=True,
        timeout=300,
        cwd=home,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Run with ID {deleted} has been permanently deleted" in result.stdout

    artifacts = _artifacts(server, gcs)
    assert not [a for a in artifacts if deleted in a], "the deleted run's artifact is gone"
    assert [a for a in artifacts if kept in a and a.endswith(os.path.join("notes", "note.txt"))]
    db = server.backend
    conn = psycopg2.connect(postgres.dsn(db.path.lstrip("/"), db.username, db.password))
    with conn, conn.cursor() as cur:
        cur.execute("SELECT run_uuid FROM runs WHERE run_uuid IN %s", (tuple(runs),))
        assert {row[0] for row in cur.fetchall()} == {kept}
    conn.close()
