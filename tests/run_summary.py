"""The run's outcome per test layer, and the rule that under CI a skip fails the run.

A suite whose most important test can skip quietly is not a guard: a fresh CI machine once went
green with the real-node test skipped for want of one host program. So, where the `CI` variable
is set, every skipped test fails the run unless tests/allowed_skips.yaml names it with a reason
(on a root machine that list is empty). A developer's run without `CI` still skips, with reasons.
Either way the summary prints passed/failed/skipped for each layer.

Loaded by tests/conftest.py; counts on the controller only (xdist's workers relay their reports).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ALLOWED_SKIPS = Path(__file__).with_name("allowed_skips.yaml")
LAYERS = ("unit", "workload", "manifests", "engine on kwok", "real node")
OUTCOMES = ("passed", "failed", "skipped")
# A test's phases (setup, call, teardown) report apart: a failure in any wins, then a skip.
RANK = {"passed": 0, "skipped": 1, "failed": 2}


def summary_layer(nodeid: str) -> str:
    """The layer a test belongs to, from its path."""
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/engine/test_engine_real_node.py"):
        return "real node"
    for folder, layer in (
        ("tests/engine/", "engine on kwok"),
        ("tests/integration/", "workload"),
        ("tests/manifests/", "manifests"),
    ):
        if path.startswith(folder):
            return layer
    return "unit"


def allowed_skips() -> dict[str, str]:
    """Test id (or a prefix of one) -> why it may skip under CI."""
    entries = yaml.safe_load(ALLOWED_SKIPS.read_text()).get("allowed") or []
    return {entry["test"]: entry["reason"] for entry in entries}


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@dataclass
class Outcomes:
    """Each test's outcome and, for a skip, its reason."""

    by_test: dict[str, str] = field(default_factory=dict)
    skip_reasons: dict[str, str] = field(default_factory=dict)

    def record(self, nodeid: str, outcome: str, reason: str = "") -> None:
        current = self.by_test.get(nodeid)
        if current is None or RANK[outcome] > RANK[current]:
            self.by_test[nodeid] = outcome
        if outcome == "skipped":
            self.skip_reasons[nodeid] = reason

    def per_layer(self) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = {layer: Counter() for layer in LAYERS}
        for nodeid, outcome in self.by_test.items():
            counts[summary_layer(nodeid)][outcome] += 1
        return counts

    def skipped(self) -> dict[str, str]:
        """Test id -> reason, for each test whose outcome is a skip."""
        return {n: r for n, r in self.skip_reasons.items() if self.by_test[n] == "skipped"}

    def skips_not_allowed(self, allowed: dict[str, str]) -> dict[str, str]:
        return {
            nodeid: reason
            for nodeid, reason in self.skipped().items()
            if not any(nodeid.startswith(test) for test in allowed)
        }


class RunSummary:
    """The plugin: records every report, fails a CI run that skipped, prints the layers."""

    def __init__(self, ci: bool, allowed: dict[str, str]) -> None:
        self.ci = ci
        self.allowed = allowed
        self.outcomes = Outcomes()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and hasattr(report, "wasxfail"):
            return  # an expected failure that failed: not a skip
        if report.failed:
            self.outcomes.record(report.nodeid, "failed")
        elif report.skipped:
            self.outcomes.record(report.nodeid, "skipped", _skip_reason(report))
        elif report.when == "call":
            self.outcomes.record(report.nodeid, "passed")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped:  # a whole module skipped at import
            self.outcomes.record(report.nodeid, "skipped", _skip_reason(report))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        passing = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        if (
            self.ci
            and self.outcomes.skips_not_allowed(self.allowed)
            and session.exitstatus in passing
        ):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _allowance(self, nodeid: str) -> str:
        return next(reason for test, reason in self.allowed.items() if nodeid.startswith(test))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        write = terminalreporter.write_line
        write("Tests per layer:      " + "".join(f"{o:>9}" for o in OUTCOMES))
        for layer, counts in self.outcomes.per_layer().items():
            write(f"  {layer:<19}" + "".join(f"{counts[o]:>9}" for o in OUTCOMES))
        refused = self.outcomes.skips_not_allowed(self.allowed)
        for nodeid, reason in self.outcomes.skipped().items():
            if nodeid not in refused:
                write(f"allowed skip: {nodeid}: {reason} ({self._allowance(nodeid)})")
        if not self.ci:
            return
        for nodeid, reason in refused.items():
            write(f"CI: skipped, and a skip under CI fails the run: {nodeid}: {reason}", red=True)
        if refused:
            write(f"CI: {len(refused)} skipped test(s) not in {ALLOWED_SKIPS.name}", red=True)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller counts
        return
    ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    config.pluginmanager.register(RunSummary(ci, allowed_skips()), "mlflow-platform-run-summary")
