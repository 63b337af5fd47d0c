"""`make test` keeps each layer with session-wide services on one xdist worker (tests/layers.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import cast

import pytest
from xdist.scheduler import LoadScopeScheduling

from tests.harness import ROOT
from tests.layers import SERIAL_LAYERS, LayerScheduling, layer_of


@pytest.mark.parametrize(
    ("nodeid", "layer"),
    [
        ("tests/engine/test_engine_real_node.py::test_local_stack_on_a_real_node", "engine"),
        ("tests/integration/test_images.py::test_pause[a/b::c]", "integration"),
        ("tests/manifests/test_manifests.py::test_checkov_finds_nothing[dev]", None),
        ("tests/test_stacks.py::test_stack_outputs[engine/integration]", None),
    ],
)
def test_engine_and_workload_tests_share_a_worker_and_the_rest_go_anywhere(
    nodeid: str, layer: str | None
) -> None:
    assert layer_of(nodeid) == layer


def test_the_scheduler_makes_each_layer_one_unit_of_work() -> None:
    # The method we override is the one xdist's scope scheduling asks for each test's unit; were
    # it renamed, every module would become a unit and a layer could span both workers.
    assert "_split_scope" in vars(LoadScopeScheduling)
    # Called unbound, without a scheduler: the method reads nothing of `self`.
    split = cast(Callable[[object, str], str], LayerScheduling._split_scope)
    engine = {split(None, f"tests/engine/test_{n}.py::test_x") for n in ("a", "b")}
    assert engine == {"engine"}
    quick = "tests/test_stacks.py::test_stack_outputs[dev]"
    assert split(None, quick) == quick


def test_make_test_runs_one_worker_per_serial_layer() -> None:
    recipe = re.search(r"^test: .*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe is not None
    assert f"-m pytest -n {len(SERIAL_LAYERS)}" in recipe.group(1)
