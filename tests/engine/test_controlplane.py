"""The control plane built from Go modules starts on loopback, kwok's node is Ready, and it
stops cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine import controlplane
from tests.integration.services import port_is_free

pytestmark = pytest.mark.engine


def test_control_plane_starts_serves_and_stops(tmp_path: Path) -> None:
    missing = controlplane.missing_binaries()
    if missing:
        pytest.skip(f"not built: {', '.join(missing)}; run `make controlplane`")
    with controlplane.control_plane(tmp_path) as plane:
        version = plane.api("GET", "/version")
        assert (version["major"], version["minor"]) == ("1", "36")
        nodes = plane.api("GET", "/api/v1/nodes")["items"]
        assert [n["metadata"]["name"] for n in nodes] == [controlplane.NODE]
        assert plane.kubeconfig.exists()
        port = int(plane.server.rsplit(":", 1)[1])
    assert port_is_free(port), "kube-apiserver left its port bound"
