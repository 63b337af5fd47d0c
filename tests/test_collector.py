"""infra/collector.py: the collector waits while the program imports and declares, then runs as
usual with what was declared frozen, so a long `pulumi up` does not grow without collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from infra.collector import paused_while_declaring
from tests.harness import ROOT


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_paused_inside_then_frozen_and_running_again(collector):
    gc.enable()
    with paused_while_declaring():
        assert not gc.isenabled()
        declared = [object() for _ in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(declared)


def test_a_refused_config_still_gives_the_collector_back(collector):
    gc.enable()
    with pytest.raises(SystemExit), paused_while_declaring():
        raise SystemExit(32)
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled(collector):
    gc.disable()
    with paused_while_declaring():
        pass
    assert not gc.isenabled()


def test_the_program_imports_and_declares_inside_the_pause():
    main = (ROOT / "infra" / "__main__.py").read_text()
    body = main.split("with paused_while_declaring():", 1)[1]
    assert "from infra.program import main" in body and "main()" in body
    assert "import pulumi" not in main.split("with paused_while_declaring():", 1)[0]
