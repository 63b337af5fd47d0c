"""Refuse `make destroy` early, with instructions, when the stack holds protected resources.

Reads `pulumi stack export` from stdin. Without this, `pulumi destroy` stops halfway with
"resource ... cannot be deleted because it is protected".
"""

from __future__ import annotations

import json
import sys
from typing import Any


def protected_resources(export: dict[str, Any]) -> list[str]:
    resources = export.get("deployment", {}).get("resources", []) or []
    return [r["urn"] for r in resources if r.get("protect")]


def explain(stack: str, urns: list[str]) -> str:
    listed = "\n".join(f"  - {urn}" for urn in urns)
    return (
        f"Stack {stack!r} protects {len(urns)} resource(s) from deletion:\n{listed}\n\n"
        "To destroy it on purpose:\n"
        f"  1. In stacks/Pulumi.{stack}.yaml set database.deletion_protection: false,\n"
        "     artifacts.protect: false (and artifacts.force_destroy: true to drop the objects),\n"
        "     cluster.deletion_protection: false; prod refuses these, so change environment too.\n"
        f"  2. make up STACK={stack}   (turns the protection off in GCP and in the state)\n"
        f"  3. make destroy STACK={stack}\n\n"
        "An adopted bucket or instance (artifacts.import_existing, database.import_instance) is\n"
        "always protected: it holds data this stack did not create. To destroy the rest and keep\n"
        "it, first forget it (this deletes nothing in GCP):\n"
        f"  pulumi state delete --stack {stack} --force <its URN from the list above>\n"
    )


def main(argv: list[str]) -> int:
    stack = argv[1] if len(argv) > 1 else "?"
    text = sys.stdin.read()
    urns = protected_resources(json.loads(text)) if text.strip() else []
    if urns:
        print(explain(stack, urns), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
