from __future__ import annotations

import pytest

from tests.harness import STACKS, Capture, run_stack


@pytest.fixture(scope="session")
def stacks() -> dict[str, Capture]:
    """Each shipped stack evaluated once under mocks (the program is deterministic)."""
    return {stack: run_stack(stack) for stack in STACKS}
