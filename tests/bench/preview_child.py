"""The measured side of tests/bench/preview.py, in a cold interpreter: stdlib only at the top,
so nothing is imported before the clock starts.

  python -m tests.bench.preview_child program STACK CONFIG_JSON   # infra/ under plain mocks
  python -m tests.bench.preview_child floor MODULES_JSON          # import those modules
  python -m tests.bench.preview_child floor-paused MODULES_JSON   # ... with the collector paused
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

SDKS = ("pulumi", "pulumi_gcp", "pulumi_kubernetes", "pulumi_random", "pulumi_command")


def program(stack: str, config: dict[str, str]) -> dict[str, Any]:
    start = time.perf_counter()
    import pulumi
    from pulumi.runtime import mocks

    class Echo(mocks.Mocks):
        def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
            return {}, None

    mocks.set_mocks(Echo(), project="mlflow-platform", stack=stack, preview=True)
    pulumi.runtime.set_all_config(config)

    def as_infra_main_runs_it() -> None:
        from infra.collector import paused_while_declaring

        with paused_while_declaring():
            from infra.program import run

            run()

    pulumi.runtime.test(as_infra_main_runs_it)()  # type: ignore[no-untyped-call]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "modules": [m for m in sys.modules if m.split(".")[0] in SDKS]}


# What is imported before the program's pause: the language host imports the SDK's core before it
# runs infra/__main__.py, and program() above imports these outside the pause too.
BEFORE_THE_PAUSE = ("pulumi", "pulumi.runtime.mocks")


def floor(modules: list[str], paused: bool = False) -> dict[str, Any]:
    import contextlib
    import importlib

    from infra.collector import paused_while_declaring

    start = time.perf_counter()
    if paused:
        for module in BEFORE_THE_PAUSE:
            importlib.import_module(module)
    with paused_while_declaring() if paused else contextlib.nullcontext():
        for module in modules:
            importlib.import_module(module)
    return {"seconds": time.perf_counter() - start}


if __name__ == "__main__":
    if sys.argv[1] == "program":
        print(json.dumps(program(sys.argv[2], json.loads(sys.argv[3]))))
    else:
        print(json.dumps(floor(json.loads(sys.argv[2]), paused=sys.argv[1] == "floor-paused")))
