"""Under CI a skip fails the run unless it is allowed with a reason; every run counts its layers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import run_summary

SKIPPING_NODE_TEST = """
import pytest

def test_node():
    pytest.skip("not built: nft")
"""
PASSING = "def test_ok():\n    assert True\n"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(
        **{
            "tests/engine/test_engine_real_node": SKIPPING_NODE_TEST,
            "tests/engine/test_engine_x": PASSING,
            "tests/integration/test_w": PASSING,
            "tests/manifests/test_m": PASSING,
            "tests/test_u": PASSING + "\ndef test_bad():\n    assert False\n",
        }
    )
    return pytester


def _run(suite: pytest.Pytester) -> pytest.RunResult:
    return suite.runpytest("-p", "tests.run_summary", "-p", "no:cacheprovider", "-rs", "tests")


def test_a_skip_under_ci_fails_the_run_and_is_named(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    suite.path.joinpath("tests/test_u.py").write_text(PASSING)
    result = _run(suite)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "CI: skipped, and a skip under CI fails the run: "
            "tests/engine/test_engine_real_node.py::test_node: not built: nft",
            "CI: 1 skipped test(s) not in allowed_skips.yaml",
        ]
    )


def test_without_ci_a_skip_passes_with_its_reason(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    suite.path.joinpath("tests/test_u.py").write_text(PASSING)
    result = _run(suite)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["SKIPPED * not built: nft"])
    assert "CI:" not in result.stdout.str()


def test_an_allowed_skip_passes_under_ci_and_prints_why(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CI", "true")
    allowed = tmp_path / "allowed.yaml"
    allowed.write_text(
        "allowed:\n  - test: tests/engine/test_engine_real_node.py\n    reason: no root here\n"
    )
    monkeypatch.setattr(run_summary, "ALLOWED_SKIPS", allowed)
    suite.path.joinpath("tests/test_u.py").write_text(PASSING)
    result = _run(suite)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "allowed skip: tests/engine/test_engine_real_node.py::test_node: "
            "not built: nft (no root here)"
        ]
    )


def test_a_module_skipped_at_import_counts_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(
        **{
            "tests/integration/test_w": "import pytest\n"
            "pytest.skip('no docker', allow_module_level=True)\n"
        }
    )
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["CI: skipped, * tests/integration/test_w.py: no docker"])


def test_the_summary_counts_each_layer(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = _run(suite)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # test_bad
    result.stdout.fnmatch_lines(
        [
            "Tests per layer: * passed * failed * skipped",
            "  unit * 1 * 1 * 0",
            "  workload * 1 * 0 * 0",
            "  manifests * 1 * 0 * 0",
            "  engine on kwok * 1 * 0 * 0",
            "  real node * 0 * 0 * 1",
        ]
    )


def test_the_shipped_list_allows_no_skip() -> None:
    """CI runs as root on a machine .ci/run provisions whole: nothing needs to skip there."""
    assert run_summary.allowed_skips() == {}
