"""The control plane on loopback, one per test module, with its stand-in add-ons running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engine import addons, controlplane
from tests.engine.toolchain import ENGINE_BIN, require_engine

PROVIDERS = ("pulumi-resource-kubernetes", "pulumi-resource-random", "pulumi-resource-command")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.ControlPlane]:
    require_engine()
    missing = controlplane.missing_binaries()
    missing += [name for name in PROVIDERS if not (ENGINE_BIN / name).exists()]
    if missing:
        pytest.skip(f"not built: {', '.join(missing)}; run `make engine controlplane`")
    with controlplane.control_plane(tmp_path_factory.mktemp("controlplane")) as plane:
        addons.provision_volumes(plane, count=2)  # the database's and the artifacts' claims
        with addons.ingress_addresses(plane):
            yield plane
