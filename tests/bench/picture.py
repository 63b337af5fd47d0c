"""The resource graph as a picture for docs/architecture.md, generated from the program.

Each stack's program runs under mocks (tests/bench/graph.py reads every wait the engine
applies); the picture draws one box per component and an arrow where something inside one
waits for something inside another. The critical path (the longest chain of typical create
times, tests/bench/create_times.yaml) is drawn in thick arrows and its components highlighted;
the list under the picture names each resource on it with its time.
"""

from __future__ import annotations

from itertools import pairwise

from tests.bench.graph import Graph, build, create_time, longest_path
from tests.harness import Capture, run_stack

PICTURED = ("local", "prod")


def _owners(capture: Capture) -> dict[str, str]:
    """Each custom resource's nearest component (the stack itself for top-level ones)."""
    regs = {r.urn: r for r in capture.registrations}
    owners = {}
    for reg in capture.registrations:
        if reg.custom:
            parent = regs.get(reg.parent)
            owners[reg.urn] = parent.urn if parent is not None else "stack"
    return owners


def _label(urn: str) -> str:
    if urn == "stack":
        return "stack"
    kind = urn.split("::")[2].rsplit("$", 1)[-1].rsplit(":", 1)[-1]
    return f"{kind}<br/>{urn.rsplit('::', 1)[-1]}"


def _short(urn: str) -> str:
    return f"{urn.split('::')[2].rsplit('$', 1)[-1]} `{urn.rsplit('::', 1)[-1]}`"


def mermaid(graph: Graph, owners: dict[str, str]) -> list[str]:
    total, path = longest_path(graph, graph.waits)
    boxes = sorted(set(owners.values()))
    ids = {urn: f"c{i}" for i, urn in enumerate(boxes)}
    on_path = [owners[u] for u in path]
    thick = {(a, b) for a, b in pairwise(on_path) if a != b}
    edges = {
        (owners[w], owners[u])
        for u, waits in graph.waits.items()
        for w in waits
        if owners[w] != owners[u]
    }
    lines = ["```mermaid", "flowchart LR"]
    lines += [f'  {ids[b]}["{_label(b)}"]' for b in boxes]
    for a, b in sorted(edges):
        arrow = "==>" if (a, b) in thick else "-->"
        lines.append(f"  {ids[a]} {arrow} {ids[b]}")
    lines.append("  classDef critical stroke:#d33,stroke-width:3px")
    lines.append(f"  class {','.join(sorted({ids[o] for o in on_path}))} critical")
    lines.append("```")
    lines.append("")
    lines.append(f"Critical path, {total} s of typical create time:")
    lines.append("")
    lines += [f"1. {_short(u)}: {create_time(graph.nodes[u])} s" for u in path]
    return lines


def picture() -> str:
    """The block's content: one picture per stack in PICTURED."""
    out: list[str] = []
    for stack in PICTURED:
        capture = run_stack(stack)
        graph = build(stack, capture)
        out += [f"### {stack}", "", *mermaid(graph, _owners(capture)), ""]
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(picture(), end="")
