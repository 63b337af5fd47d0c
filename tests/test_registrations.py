"""Moving code must not move resources: every stack and variant registers, byte for byte, what
its snapshot in tests/data/registrations/ says (see tests/registrations.py)."""

from __future__ import annotations

import difflib

import pytest

from tests.registrations import NAMES, canonical, evaluate, snapshot_path


@pytest.mark.parametrize("name", NAMES)
def test_registrations_match_the_snapshot(name: str) -> None:
    expected = snapshot_path(name).read_text()
    actual = canonical(evaluate(name))
    diff = "".join(
        difflib.unified_diff(
            expected.replace(",", ",\n").splitlines(True),
            actual.replace(",", ",\n").splitlines(True),
            "snapshot",
            "now",
            n=2,
        )
    )
    assert actual == expected, (
        f"{name}: the registrations changed. If that is meant, run "
        f"`python -m tests.registrations --write` and commit the diff.\n{diff[:4000]}"
    )


def test_the_snapshot_is_stable_across_runs() -> None:
    """Two evaluations of one stack give the same text (ordering does not leak in)."""
    assert canonical(evaluate("prod")) == canonical(evaluate("prod"))
