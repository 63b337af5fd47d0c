from __future__ import annotations

import sys
from typing import Any

import pytest

from tests.harness import STACKS, Capture, run_stack

# pytester runs small suites in-process (tests/test_run_summary.py); run_summary counts the layers
# and, under CI, fails a run that skipped.
pytest_plugins = ("pytester", "tests.run_summary")

# What the workload layer's workers found (which PostgreSQL ran), for the run's summary, by worker:
# xdist reports a worker that was interrupted as down twice.
RELAYED: dict[str, list[str]] = {}


# Optional hooks: they are xdist's, and a run with `-p no:xdist` must still start.
# Nothing of xdist's scheduling or of the Docker fixtures is loaded at start-up (about 0.1 s each):
# the scheduler is imported when xdist asks for it, and the workload layer's report is read only
# where that layer ran and so loaded it.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from tests import layers

    return layers.scheduler(config, log)


def _workload_report() -> list[str]:
    engines = sys.modules.get("tests.integration.docker_engine")
    return engines.REPORT.lines() if engines else []


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)  # set on an xdist worker only
    if output is not None:
        output["summary"] = _workload_report()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    lines = getattr(node, "workeroutput", {}).get("summary", [])
    if lines:
        RELAYED[node.gateway.id] = lines


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    relayed = [line for lines in RELAYED.values() for line in lines]
    for line in _workload_report() + relayed:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def stacks() -> dict[str, Capture]:
    """Each shipped stack evaluated once under mocks (the program is deterministic)."""
    return {stack: run_stack(stack) for stack in STACKS}
