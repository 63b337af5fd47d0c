"""infra/collector.py: the collector waits while the program imports and declares, then runs as
usual with what was declared frozen, so a long `pulumi up` does not grow without collection."""

from __future__ import annotations

import ast
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


def test_paused_inside_then_frozen_and_running_again(collector: None) -> None:
    gc.enable()
    frozen_before = gc.get_freeze_count()
    with paused_while_declaring():
        assert not gc.isenabled()
        declared = [[index] for index in range(1000)]  # lists: objects the collector tracks
    assert gc.isenabled()
    assert gc.get_freeze_count() - frozen_before >= len(declared)
    assert not any(obj is declared[0] for obj in gc.get_objects())  # no later walk sees them


def test_a_refused_config_still_gives_the_collector_back(collector: None) -> None:
    gc.enable()
    with pytest.raises(SystemExit), paused_while_declaring():
        raise SystemExit(32)
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled(collector: None) -> None:
    gc.disable()
    with paused_while_declaring():
        pass
    assert not gc.isenabled()


def test_the_program_imports_and_declares_inside_the_pause() -> None:
    module = ast.parse((ROOT / "infra" / "__main__.py").read_text())
    pauses = [
        node
        for node in module.body
        if isinstance(node, ast.With)
        and ast.unparse(node.items[0].context_expr) == "paused_while_declaring()"
    ]
    assert len(pauses) == 1
    body = [ast.unparse(statement) for statement in pauses[0].body]
    assert body == ["from infra.program import main", "main()"]
