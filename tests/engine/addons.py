"""What a real cluster's add-ons do, done by hand for the control plane on loopback.

- a storage provisioner: PersistentVolumes for the claims to bind to;
- the ingress controller: an address published on each Ingress (the test chart installs only
  the IngressClass, because the ingress-nginx chart cannot be downloaded here);
- cert-manager: a chart made here that installs only cert-manager's real CRDs (its images
  cannot be pulled, so no certificate is issued).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.engine.controlplane import ControlPlane
from tests.manifests.crds import CRD_DIR

INGRESSES = "/apis/networking.k8s.io/v1/ingresses"


def provision_volumes(
    plane: ControlPlane, count: int, size: str = "20Gi", prefix: str = "pv"
) -> None:
    """`count` new hostPath volumes (a bound volume is not reused once its claim is gone)."""
    for index in range(count):
        plane.api(
            "POST",
            "/api/v1/persistentvolumes",
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": f"{prefix}-{index}"},
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "",
                    "hostPath": {"path": f"/tmp/{prefix}-{index}"},
                },
            },
        )


def _publish_addresses(plane: ControlPlane) -> None:
    for ingress in plane.api("GET", INGRESSES).get("items", []):
        if ingress.get("status", {}).get("loadBalancer", {}).get("ingress"):
            continue
        meta = ingress["metadata"]
        ingress["status"] = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}
        path = f"/apis/networking.k8s.io/v1/namespaces/{meta['namespace']}/ingresses/{meta['name']}"
        plane.api("PUT", f"{path}/status", ingress, ok=(200, 404, 409))


@contextlib.contextmanager
def ingress_addresses(plane: ControlPlane) -> Iterator[None]:
    """While open, every Ingress gets an address within a second, as a controller would give."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(1):
            _publish_addresses(plane)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def wait_gone(plane: ControlPlane, path: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while plane.exists(path):
        assert time.monotonic() < deadline, f"{path} still exists"
        time.sleep(1)


def cert_manager_chart(directory: Path) -> Path:
    """A chart with cert-manager's CRDs as templates (as `crds.enabled` installs them)."""
    if not CRD_DIR.exists():
        pytest.skip("cert-manager's CRDs are fetched by `make controlplane`")
    (directory / "templates").mkdir(parents=True)
    (directory / "Chart.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v2",
                "name": "cert-manager",
                "description": "Engine tests only: cert-manager's CRDs, no controller.",
                "version": "1.19.1",
            }
        )
    )
    for crd in CRD_DIR.glob("*.yaml"):
        shutil.copy(crd, directory / "templates" / crd.name)
    return directory
