"""The control plane on loopback, one for the session's kwok tests, with its stand-in add-ons
running. Each test brings its stack up and destroys it, so the next finds the cluster empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engine import addons, controlplane
from tests.engine.toolchain import ENGINE_BIN, require_engine

PROVIDERS = ("pulumi-resource-kubernetes", "pulumi-resource-random", "pulumi-resource-command")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.ControlPlane]:
    require_engine()
    missing = controlplane.missing_binaries()
    missing += [name for name in PROVIDERS if not (ENGINE_BIN / name).exists()]
    if missing:
        pytest.skip(f"not built: {', '.join(missing)}; run `make engine controlplane`")
    root = tmp_path_factory.mktemp("controlplane")
    with (
        controlplane.control_plane(root / "plane") as plane,
        addons.volume_provisioner(plane, root / "volumes"),
        addons.ingress_addresses(plane),
    ):
        yield plane
