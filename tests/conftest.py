from __future__ import annotations

from typing import Any

import pytest

from tests import layers
from tests.harness import STACKS, Capture, run_stack
from tests.integration import docker_engine

# What the workload layer's workers found (which PostgreSQL ran), for the run's summary.
RELAYED: list[str] = []


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    return layers.scheduler(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)  # set on an xdist worker only
    if output is not None:
        output["summary"] = docker_engine.REPORT.lines()


def pytest_testnodedown(node: Any, error: Any) -> None:
    RELAYED.extend(getattr(node, "workeroutput", {}).get("summary", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in docker_engine.REPORT.lines() + RELAYED:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def stacks() -> dict[str, Capture]:
    """Each shipped stack evaluated once under mocks (the program is deterministic)."""
    return {stack: run_stack(stack) for stack in STACKS}
