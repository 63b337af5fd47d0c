"""How `make test` shares two pytest-xdist workers between the test layers.

The engine layer (one control plane for the session, the real node) and the workload layer (one
Docker engine for the session) each stay on one worker, so each starts its shared services once
and the two run side by side; every other test goes wherever a worker is free. xdist's own
`xdist_group` mark cannot do this under pytest 9 (it renames node ids through an attribute pytest
no longer reads), so the grouping goes by the layer's directory in the node id instead.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

SERIAL_LAYERS = ("engine", "integration")


def layer_of(nodeid: str) -> str | None:
    """`tests/engine/test_x.py::test_y` -> "engine"; None for tests that may go anywhere."""
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[1] in SERIAL_LAYERS else None


class LayerScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """Each serial layer is one unit of work; any other test is a unit of its own. The biggest
    units are handed out first (xdist's reordering), so the two layers start at once."""

    def _split_scope(self, nodeid: str) -> str:
        return layer_of(nodeid) or nodeid


def scheduler(config: Any, log: Any) -> LayerScheduling | None:
    return LayerScheduling(config, log) if config.getvalue("dist") == "load" else None
