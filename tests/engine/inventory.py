"""Every object in the API server, of every kind it serves: what a stack leaves behind is what
the inventory after `destroy` has that the one before `up` had not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

from tests.engine.controlplane import ControlPlane

# Records of what happened, not objects anyone created.
NOT_OBJECTS = frozenset({"events", "events.events.k8s.io"})


class Entry(NamedTuple):
    resource: str  # plural.group, e.g. deployments.apps (core kinds: the plural alone)
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.resource} {self.namespace}/{self.name}".replace(" /", " ")


def _listable(plane: ControlPlane) -> dict[str, str]:
    """{plural.group: its list path} for every kind the API server serves now."""
    versions = [("", "/api/v1")] + [
        (group["name"], f"/apis/{group['preferredVersion']['groupVersion']}")
        for group in plane.api("GET", "/apis")["groups"]
    ]
    kinds = {}
    for group, path in versions:
        # A group whose CRDs were just deleted may still be announced: it then lists nothing.
        for resource in plane.api("GET", path, ok=(200, 404)).get("resources", []):
            if "/" in resource["name"] or "list" not in resource["verbs"]:
                continue
            key = f"{resource['name']}.{group}".rstrip(".")
            kinds[key] = f"{path}/{resource['name']}"
    return {key: path for key, path in kinds.items() if key not in NOT_OBJECTS}


def _items(plane: ControlPlane, path: str) -> list[dict[str, Any]]:
    # A kind whose CRD was just created answers 429 until its storage is ready.
    for _ in range(30):
        answer = plane.api("GET", path, ok=(200, 404, 429))
        if answer.get("code") != 429:
            items: list[dict[str, Any]] = answer.get("items", [])
            return items
        time.sleep(1)
    raise RuntimeError(f"GET {path}: still 429 after 30 s")


def inventory(plane: ControlPlane, selector: str = "") -> set[Entry]:
    """Every object (of the ones labelled `selector`, if given), by kind, namespace and name."""
    query = f"?labelSelector={selector}" if selector else ""
    return {
        Entry(key, item["metadata"].get("namespace", ""), item["metadata"]["name"])
        for key, path in _listable(plane).items()
        for item in _items(plane, path + query)
    }


def left_behind(
    plane: ControlPlane,
    before: set[Entry],
    timeout: float = 120,
    expected: Callable[[str], bool] = lambda entry: False,
) -> list[str]:
    """What is in the API server now and was not in `before`, once namespaces and the objects
    that go with others (volumes, addresses) have had up to `timeout` seconds to go, or once
    only `expected` entries are left."""
    deadline = time.monotonic() + timeout
    while True:
        new = sorted(str(entry) for entry in inventory(plane) - before)
        if all(map(expected, new)) or time.monotonic() > deadline:
            return new
        time.sleep(2)
