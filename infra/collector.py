"""Python's cyclic garbage collector, paused while the program imports and declares.

Importing the Kubernetes and Google Cloud SDKs creates a few hundred thousand long-lived objects
(generated classes and their type hints), and the collector walks all of them again each time
their number grows by a quarter: a third of a staging preview's Python time went to that
(`make bench-preview`). Nothing they make is garbage, so the collector waits until the program
has declared its resources; they are then frozen (kept out of every later walk) and the collector
runs as usual for the rest of the deployment, which can last many minutes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_while_declaring() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
