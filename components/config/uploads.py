"""How much scratch space an artifact upload needs, from the ingress's body-size limit.

MLflow 3.17.2 writes a proxied upload to a temporary file (in /tmp) before it sends it to an
object store (GCS); only a local volume is written as a stream. So /tmp must hold the largest
upload the ingress lets through, and the pod must request that much ephemeral storage, or a
large upload gets it evicted (GKE Autopilot's default ephemeral storage is small).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config.quantities import nginx_bytes

MiB = 2**20
GiB = 2**30
# Room beside one upload of the largest size: MLflow's own temporary files and a smaller upload
# finishing at the same time.
HEADROOM = 1 * GiB
# The server container's own writes besides /tmp (its root file system is read-only: logs).
CONTAINER_OVERHEAD = 512 * MiB
# The other containers of the pod: the migration (an init container) and the Auth Proxy.
MIGRATION_EPHEMERAL = 512 * MiB
PROXY_EPHEMERAL = 256 * MiB
# The metrics sidecar: its log and the exporter's files in their emptyDir (64 MiB at most).
METRICS_EPHEMERAL = 128 * MiB
# GKE Autopilot: the ephemeral storage requests of a pod's containers add up to at most 10 GiB.
AUTOPILOT_POD_EPHEMERAL_MAX = 10 * GiB
# GKE Standard: the boot disk also holds the OS, images and the kubelet's reserve; one pod may
# count on half of it.
NODE_DISK_SHARE = 0.5


def _mebibytes(size: int) -> str:
    return f"{-(-size // MiB)}Mi"


@dataclass(frozen=True)
class UploadScratch:
    """Sizes (in bytes) derived from the ingress's `proxy_body_size`."""

    body: int

    @classmethod
    def for_body_size(cls, proxy_body_size: str) -> UploadScratch:
        return cls(nginx_bytes(proxy_body_size))

    @property
    def tmp(self) -> int:
        """The /tmp emptyDir's size limit."""
        return -(-self.body // GiB) * GiB + HEADROOM

    @property
    def server(self) -> int:
        """The server container's ephemeral-storage request and limit (/tmp counts in it)."""
        return self.tmp + CONTAINER_OVERHEAD

    def pod(self, with_proxy: bool) -> int:
        """What the pod's containers request in all (init containers run before the rest)."""
        running = self.server + METRICS_EPHEMERAL + (PROXY_EPHEMERAL if with_proxy else 0)
        return max(running, MIGRATION_EPHEMERAL)

    @property
    def tmp_quantity(self) -> str:
        return _mebibytes(self.tmp)

    @property
    def server_quantity(self) -> str:
        return _mebibytes(self.server)


def largest_body_on_autopilot(with_proxy: bool) -> str:
    """The largest proxy_body_size whose pod still fits Autopilot's ephemeral storage cap."""
    room = AUTOPILOT_POD_EPHEMERAL_MAX - HEADROOM - CONTAINER_OVERHEAD - METRICS_EPHEMERAL
    room -= PROXY_EPHEMERAL if with_proxy else 0
    return f"{room // GiB}g"
