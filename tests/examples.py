"""The example programs in examples/: where they are, what their READMEs promise."""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness import ROOT

EXISTING_CLUSTER = ROOT / "examples" / "mlflow-on-existing-cluster"


def promised_outputs(example: Path) -> list[str]:
    """The stack outputs the example's README lists (its `## Outputs` table)."""
    readme = (example / "README.md").read_text()
    section = readme.split("## Outputs", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, re.M)
