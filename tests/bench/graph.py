"""Time to a working endpoint, from the resource graph: `make bench-graph`.

Each stack's program runs under mocks; every custom resource's waits are read from what it
registered, as the engine applies them: its explicit `depends_on`, the resources its inputs come
from, its provider, and whatever its ancestor components wait for (waiting on a component means
waiting on everything inside it). Each resource takes its typical create time
(tests/bench/create_times.yaml, with sources). Two longest paths are reported:

- the critical path, through every wait the program declares;
- the unavoidable chain, through the physical waits only: data flowing from one resource into
  another, the provider, and the explicit waits in PHYSICAL, each with its reason.

A wait that is not physical but lengthens the path makes `pulumi up` slower for nothing.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from components.workload.mlflow.migration import NOTHING_TO_BACK_UP_SCRIPT
from tests.harness import STACKS, Capture, Registration, run_stack

TIMES = Path(__file__).with_name("create_times.yaml")

# (the waiting type, what it waits for, why that is physical). fnmatch patterns.
PHYSICAL: tuple[tuple[str, str, str], ...] = (
    ("gcp:*", "gcp:projects/service:Service", "an API must be enabled before it is called"),
    ("kubernetes:*", "kubernetes:core/v1:Namespace", "objects are created in their namespace"),
    ("command:local:Command", "command:local:Command", "kubeconfig and IP need the profile up"),
    *(
        (
            waiting,
            store,
            "the MLflow server and its migration run only with their database, bucket and "
            "permissions in place",
        )
        for waiting in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job")
        for store in (
            "gcp:sql/*",
            "gcp:servicenetworking/*",
            "gcp:compute/globalAddress:GlobalAddress",
            "gcp:storage/*",
            "gcp:serviceaccount/*",
            "gcp:projects/iAMMember:IAMMember",
            "kubernetes:apps/v1:StatefulSet",
            "kubernetes:core/v1:*",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "random:*",
        )
    ),
    (
        "kubernetes:apps/v1:Deployment",
        "kubernetes:batch/v1:Job",
        "the new server version starts only on a migrated schema",
    ),
    (
        "kubernetes:batch/v1:Job",
        "command:local:Command",
        "the schema changes only once the backup before the upgrade exists",
    ),
    ("command:local:Command", "gcp:sql/*", "Cloud SQL runs one operation per instance at a time"),
    (
        "kubernetes:networking.k8s.io/v1:Ingress",
        "kubernetes:helm.sh/v3:Release",
        "the ingress controller's admission webhook validates every Ingress",
    ),
    (
        "kubernetes:cert-manager.io/*",
        "kubernetes:helm.sh/v3:Release",
        "the chart installs the CRDs",
    ),
    ("kubernetes:cert-manager.io/*", "kubernetes:cert-manager.io/*", "a CA is signed by its root"),
    (
        "gcp:serviceaccount/iAMMember:IAMMember",
        "gcp:container/cluster:Cluster",
        "the Workload Identity pool exists once the first cluster with it does",
    ),
    (
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:servicenetworking/connection:Connection",
        "a private IP comes from the peered range",
    ),
    (
        "gcp:sql/user:User",
        "gcp:sql/database:Database",
        "Cloud SQL runs one operation per instance at a time",
    ),
)


@dataclass
class Graph:
    stack: str
    nodes: dict[str, Registration]
    waits: dict[str, set[str]] = field(default_factory=dict)  # every declared wait
    physical: dict[str, set[str]] = field(default_factory=dict)  # the physical ones


@cache
def _times() -> dict[str, int]:
    seconds: dict[str, int] = yaml.safe_load(TIMES.read_text())["seconds"]
    return seconds


def create_time(reg: Registration) -> int:
    times = _times()
    if reg.inputs.get("create") == NOTHING_TO_BACK_UP_SCRIPT:
        # The backup step on a new instance's first `up`: it says so and ends.
        return times[reg.type]
    for key, value in times.items():
        kind, _, fragment = key.partition("#")
        if fragment and kind == reg.type and reg.name.endswith(fragment):
            return value
    return times.get(reg.type, times["default"])


def _is_physical(waiting: Registration, awaited: Registration) -> bool:
    return any(
        fnmatch.fnmatch(waiting.type, a) and fnmatch.fnmatch(awaited.type, b)
        for a, b, _ in PHYSICAL
    )


def build(stack: str, capture: Capture | None = None) -> Graph:
    capture = capture or run_stack(stack)
    regs = {r.urn: r for r in capture.registrations}
    children: dict[str, list[str]] = {}
    for r in capture.registrations:
        children.setdefault(r.parent, []).append(r.urn)

    def customs(urn: str) -> set[str]:
        """A resource, or every custom resource inside a component."""
        if urn in regs and regs[urn].custom:
            return {urn}
        return {c for child in children.get(urn, []) for c in customs(child)}

    graph = Graph(stack, {u: r for u, r in regs.items() if r.custom})
    for urn, reg in graph.nodes.items():
        data = {d for deps in reg.property_dependencies.values() for d in deps}
        # A provider reference is "<urn>::<id>"; default providers are not registered here.
        provider = {reg.provider.rsplit("::", 1)[0]} if reg.provider else set()
        declared = set(reg.dependencies)
        for ancestor in capture.ancestors(reg):
            declared |= set(ancestor.dependencies)
        physical = {c for d in data | provider for c in customs(d)}
        every = physical | {c for d in declared for c in customs(d)}
        every.discard(urn)
        graph.waits[urn] = every
        graph.physical[urn] = {
            w for w in every if w in physical or _is_physical(reg, graph.nodes[w])
        }
    return graph


def longest_path(graph: Graph, edges: dict[str, set[str]]) -> tuple[int, list[str]]:
    finish: dict[str, tuple[int, list[str]]] = {}

    def visit(urn: str) -> tuple[int, list[str]]:
        if urn not in finish:
            before = max((visit(w) for w in edges[urn]), default=(0, []))
            finish[urn] = (before[0] + create_time(graph.nodes[urn]), [*before[1], urn])
        return finish[urn]

    return max((visit(urn) for urn in graph.nodes), default=(0, []))


def needless_waits(graph: Graph) -> list[tuple[str, str]]:
    """Declared waits that are not physical."""
    return sorted(
        (urn, w) for urn, waits in graph.waits.items() for w in waits - graph.physical[urn]
    )


def _short(urn: str) -> str:
    return f"{urn.split('::')[2].rsplit('$', 1)[-1]}::{urn.rsplit('::', 1)[-1]}"


def report(graph: Graph) -> str:
    critical, critical_path = longest_path(graph, graph.waits)
    floor, floor_path = longest_path(graph, graph.physical)
    lines = [
        f"{graph.stack}: critical path {critical} s, unavoidable chain {floor} s "
        f"({critical / floor:.2f}x)",
        "  critical path:    " + " -> ".join(_short(u) for u in critical_path),
        "  unavoidable chain: " + " -> ".join(_short(u) for u in floor_path),
    ]
    return "\n".join(lines)


def main(stacks: Iterable[str]) -> int:
    for stack in stacks:
        print(report(build(stack)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or STACKS))
