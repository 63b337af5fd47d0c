"""What every stack and variant asks the engine to register, as canonical text.

A move of code (files into folders, helpers to new homes) must not change a single registration:
same types, names, URNs, parents, dependencies, options and inputs. `tests/test_registrations.py`
compares each stack and variant with the snapshot under tests/data/registrations/;
`python -m tests.registrations --write` rewrites the snapshots, for a change that means to alter
what is deployed (the diff then shows exactly what).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

from tests.harness import ROOT, STACKS, Capture, Registration, run_stack
from tests.manifests.render import VARIANTS, render_variant

SNAPSHOTS = ROOT / "tests" / "data" / "registrations"
NAMES = (*STACKS, *VARIANTS)


def _portable(value: Any) -> Any:
    """The checkout's and the user's home paths in inputs, as placeholders: the snapshot must
    not depend on where the repository was cloned."""
    if isinstance(value, str):
        return value.replace(str(ROOT), "<root>").replace(str(Path.home()), "<home>")
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_portable(v) for v in value]
    return value


def _record(registration: Registration) -> dict[str, Any]:
    """A registration with its dependency lists sorted: the engine reads them as sets, and
    their order follows which output resolved first."""
    record = asdict(registration)
    record["dependencies"] = sorted(record["dependencies"])
    record["property_dependencies"] = {
        key: sorted(urns) for key, urns in record["property_dependencies"].items()
    }
    return cast(dict[str, Any], _portable(record))


def canonical(capture: Capture) -> str:
    """One JSON document per registration, ordered by URN (registration order follows the
    event loop), keys sorted."""
    ordered = sorted(capture.registrations, key=lambda r: r.urn)
    lines = [json.dumps(_record(r), sort_keys=True, default=repr) for r in ordered]
    return "\n".join(lines) + "\n"


def evaluate(name: str) -> Capture:
    return run_stack(name) if name in STACKS else render_variant(name)


def snapshot_path(name: str) -> Path:
    return SNAPSHOTS / f"{name}.jsonl"


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m tests.registrations --write", file=sys.stderr)
        return 2
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        snapshot_path(name).write_text(canonical(evaluate(name)))
        print(f"wrote {snapshot_path(name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
