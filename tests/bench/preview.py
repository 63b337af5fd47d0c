"""Preview latency: the program's own time per stack against the floor of importing the Pulumi
SDK modules it uses, measured side by side in fresh processes (`make bench-preview`).

The program runs as `pulumi preview` runs it, but against Pulumi's plain mock monitor (no
engine, no recording), from a cold interpreter: its imports, the config validation and every
resource it registers. The floor is a cold interpreter importing exactly the SDK modules the
program ended up loading, in the same order. The engine's own work (plugins, diffs) is the same
for any program and is left out; the real-engine preview of the local stack is timed apart
(tests/engine, CONTRIBUTING.md).

The program pauses the garbage collector while it imports and declares (infra/collector.py), so
its SDK imports cost less than the plain floor's. A second floor, importing the same modules with
the collector paused the same way, shows what is left: the program's own work.

Our packages are compiled first: a user's previews read their bytecode from __pycache__ as they
read the SDK's from site-packages, and a machine with PYTHONDONTWRITEBYTECODE set would otherwise
time the compiler.
"""

from __future__ import annotations

import compileall
import json
import statistics
import subprocess
import sys
from typing import Any

from tests.harness import ROOT, STACKS, engine_config, stack_config

RUNS = 5


def _run(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.preview_child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def measure(stack: str, runs: int = RUNS) -> tuple[float, float, float]:
    """Median seconds of the program, of its import floor and of that floor with the collector
    paused, alternating runs."""
    program, floor, paused = [], [], []
    config = json.dumps(engine_config(stack_config(stack)))
    for _ in range(runs):
        result = _run("program", stack, config)
        program.append(result["seconds"])
        modules = json.dumps(result["modules"])
        floor.append(_run("floor", modules)["seconds"])
        paused.append(_run("floor-paused", modules)["seconds"])
    return statistics.median(program), statistics.median(floor), statistics.median(paused)


def main(argv: list[str]) -> int:
    for package in ("components", "infra"):
        compileall.compile_dir(ROOT / package, quiet=1)
    for stack in argv or STACKS:
        program, floor, paused = measure(stack)
        print(
            f"{stack}: program {program:.3f} s, SDK import floor {floor:.3f} s "
            f"({program / floor:.2f}x); the floor with the collector paused {paused:.3f} s "
            f"(own work {1000 * (program - paused):.0f} ms, {program / paused:.2f}x); "
            f"median of {RUNS}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
