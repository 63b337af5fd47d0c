"""No needless wait: on every stack the critical path equals the unavoidable chain
(tests/bench/graph.py; `make bench-graph` prints both)."""

from __future__ import annotations

import pytest

from tests.bench import graph as g
from tests.harness import STACKS, Capture


@pytest.mark.parametrize("stack", STACKS)
def test_the_critical_path_is_the_unavoidable_chain(stacks: dict[str, Capture], stack: str) -> None:
    built = g.build(stack, stacks[stack])
    critical, path = g.longest_path(built, built.waits)
    floor, _ = g.longest_path(built, built.physical)
    slow = [(g._short(a), g._short(b)) for a, b in g.needless_waits(built) if a in path]
    assert critical == floor, f"needless waits on the critical path: {slow}"
    assert floor > 0


def test_a_needless_wait_would_be_caught(stacks: dict[str, Capture]) -> None:
    """The Cloud SQL instance waiting for the GKE cluster (minutes each, independent of each
    other) lengthens the path."""
    built = g.build("staging", stacks["staging"])
    instance = next(u for u, r in built.nodes.items() if "DatabaseInstance" in r.type)
    cluster = next(u for u, r in built.nodes.items() if "container/cluster" in r.type)
    assert cluster not in built.physical[instance]
    built.waits[instance].add(cluster)
    critical, _ = g.longest_path(built, built.waits)
    floor, _ = g.longest_path(built, built.physical)
    assert critical > floor


def test_physical_waits_are_kept(stacks: dict[str, Capture]) -> None:
    built = g.build("prod", stacks["prod"])
    ingress = next(u for u, r in built.nodes.items() if r.name == "mlflow" and "Ingress" in r.type)
    assert any("helm.sh" in w for w in built.physical[ingress]), "the webhook wait is physical"
    minutes, path = g.longest_path(built, built.physical)
    assert 600 < minutes < 900, "GKE or Cloud SQL (minutes) dominate a cloud stack"
    assert any("container/cluster" in u or "databaseInstance" in u for u in path)
