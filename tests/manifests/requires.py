"""What a manifest test needs built before it can run."""

from __future__ import annotations

import os

import pytest


def require(ready: bool, reason: str) -> None:
    """Off CI a missing tool skips with `reason`; under CI (CI set) it fails the run."""
    if ready:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must build it)")
    pytest.skip(reason)
