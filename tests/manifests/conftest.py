from __future__ import annotations

import pytest

from tests.harness import Capture
from tests.manifests.render import VARIANTS, render_variant


@pytest.fixture(scope="session")
def variants() -> dict[str, Capture]:
    """Each stack variant of render.VARIANTS evaluated once under mocks."""
    return {name: render_variant(name) for name in VARIANTS}
