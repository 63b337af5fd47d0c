"""What a real cluster's add-ons do, done by hand for the control plane on loopback.

- a storage provisioner: a hostPath PersistentVolume for each claim, deleted with it;
- the ingress controller: an address published on each Ingress (on kwok the upstream chart is
  installed, but its controller does not run; on the real node its image cannot be built).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

from tests.engine.controlplane import ControlPlane

INGRESSES = "/apis/networking.k8s.io/v1/ingresses"


def _provision_claims(plane: ControlPlane, root: Path) -> None:
    """Pending claims get a volume each; volumes whose claim is gone are deleted with their data."""
    for claim in plane.api("GET", "/api/v1/persistentvolumeclaims")["items"]:
        meta, spec = claim["metadata"], claim["spec"]
        if claim.get("status", {}).get("phase") != "Pending" or spec.get("volumeName"):
            continue
        name = f"pv-{meta['uid']}"
        directory = root / name
        directory.mkdir(parents=True, exist_ok=True)
        # minikube's storage provisioner makes its directories world-writable too: hostPath
        # volumes get no fsGroup ownership, and our pods run as non-root users.
        directory.chmod(0o777)
        volume = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name},
            "spec": {
                "capacity": spec["resources"]["requests"],
                "accessModes": spec["accessModes"],
                "storageClassName": spec.get("storageClassName") or "",
                "persistentVolumeReclaimPolicy": "Delete",
                "hostPath": {"path": str(directory), "type": "Directory"},
                "claimRef": {
                    "namespace": meta["namespace"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
            },
        }
        plane.api("POST", "/api/v1/persistentvolumes", volume, ok=(201, 409))
    for volume in plane.api("GET", "/api/v1/persistentvolumes")["items"]:
        if volume.get("status", {}).get("phase") in ("Released", "Failed"):
            name = volume["metadata"]["name"]
            plane.api("DELETE", f"/api/v1/persistentvolumes/{name}", ok=(200, 404))
            shutil.rmtree(root / name, ignore_errors=True)


@contextlib.contextmanager
def volume_provisioner(plane: ControlPlane, root: Path) -> Iterator[None]:
    """While open, a storage provisioner as minikube's: a hostPath volume under `root` for each
    new claim, deleted with its data once the claim is."""
    with _every_second(lambda: _provision_claims(plane, root)):
        yield


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
    with _every_second(lambda: _publish_addresses(plane)):
        yield


@contextlib.contextmanager
def _every_second(action: Callable[[], None]) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(1):
            # An API call that fails now is tried again in a second, as a controller would.
            with contextlib.suppress(RuntimeError, requests.RequestException):
                action()

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
