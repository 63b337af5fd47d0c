"""An artifact over 1 GiB goes through the rendered server, and fits the /tmp it is given.

MLflow 3.17.2 spools a proxied upload in a temporary file before it sends it to GCS. The dev
stack's server runs as rendered (tests/integration/test_mlflow_workload.py); the directory that
plays the pod's /tmp emptyDir is watched while the MLflow client uploads, and its peak use is
compared with the emptyDir's sizeLimit and the container's ephemeral-storage limit.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from components.config.quantities import parse_quantity
from tests.harness import Capture
from tests.integration import services
from tests.integration.test_mlflow_workload import (
    RenderedWorkload,
    log_in,
    resolve_to_loopback,
    serving,
)

pytestmark = pytest.mark.integration

SIZE = 1100 * 2**20  # 1.07 GiB
MiB = 2**20


class PeakUsage(threading.Thread):
    """The most bytes the files under `root` held at once, sampled every 50 ms."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self._done = root, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.05):
            used = 0
            for path, _, files in os.walk(self.root):
                for name in files:
                    with contextlib.suppress(FileNotFoundError):
                        used += os.stat(os.path.join(path, name)).st_size
            self.peak = max(self.peak, used)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def _big_file(path: Path) -> Path:
    chunk = os.urandom(MiB)
    with path.open("wb") as out:
        for _ in range(SIZE // MiB):
            out.write(chunk)
    return path


def test_an_upload_over_one_gib_goes_through_the_rendered_server(
    stacks: dict[str, Capture],
    postgres: services.Postgres,
    gcs: services.GcsEmulator,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow.tracking import MlflowClient

    # The proxied PUT, which the server spools in /tmp. (A client would otherwise ask a GCS-backed
    # server for a multipart upload by presigned URLs, which the emulator does not offer.)
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "false")

    workload = RenderedWorkload(stacks["dev"])
    pod = workload.pod
    tmp_limit = next(v for v in pod["volumes"] if v["name"] == "tmp")["emptyDir"]["sizeLimit"]
    server_limit = workload.container("mlflow")["resources"]["limits"]["ephemeral-storage"]
    scratch = tmp_path / "pod-tmp"
    scratch.mkdir()
    artifact = _big_file(tmp_path / "model.bin")

    with serving(workload, postgres, gcs, tmp_path, scratch=scratch) as server:
        log_in(monkeypatch, server)  # the rendered admin: every stack has a login
        watcher = PeakUsage(scratch)
        watcher.start()
        with resolve_to_loopback(workload.host):
            client = MlflowClient(tracking_uri=f"http://{workload.host}:{server.port}")
            run_id = client.create_run(client.create_experiment("large-upload")).info.run_id
            client.log_artifact(run_id, str(artifact), artifact_path="model")
        peak = watcher.stop()

    assert server.bucket_name
    blobs = [b for b in gcs.client().list_blobs(server.bucket_name) if b.name.endswith("model.bin")]
    assert len(blobs) == 1 and blobs[0].size == SIZE, [(b.name, b.size) for b in blobs]
    record_property("tmp_peak_mib", peak // MiB)
    print(f"\n/tmp peak during a {SIZE // MiB} MiB upload: {peak // MiB} MiB")
    # MLflow really spools the whole upload in /tmp: the reason /tmp is sized from the body size.
    assert peak >= SIZE
    assert peak <= parse_quantity(tmp_limit) <= parse_quantity(server_limit)
    left = sum(p.stat().st_size for p in scratch.rglob("*") if p.is_file())
    assert left < MiB, "the spooled file is removed after the upload (only MLflow's lock stays)"
