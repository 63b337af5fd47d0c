"""Refuse a stack whose secrets would be encrypted with an empty passphrase (`make check-secrets`).

A self-managed backend (file://, gs://, s3://, azblob://) encrypts a stack's secrets with the
passphrase provider unless the stack names another one in stacks/Pulumi.<stack>.yaml. An empty
passphrase is tolerated for the laptop's `local` stack only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAPTOP_STACK = "local"
SELF_MANAGED = ("file://", "gs://", "s3://", "azblob://")


def stack_secrets_provider(stack_file: str) -> str | None:
    """The `secretsprovider:` a stack file names (top-level key), if any."""
    for line in stack_file.splitlines():
        key, _, value = line.partition(":")
        if key == "secretsprovider":
            return value.strip().strip("'\"") or None
    return None


def refusal(stack: str, env: Mapping[str, str], stack_file: str) -> str | None:
    """Why `stack` must not run with this environment, or None when it may."""
    backend = env.get("PULUMI_BACKEND_URL", "")
    if stack == LAPTOP_STACK or not backend.startswith(SELF_MANAGED):
        return None
    provider = stack_secrets_provider(stack_file)
    if provider not in (None, "passphrase"):
        return None
    if env.get("PULUMI_CONFIG_PASSPHRASE") or env.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        return None
    return (
        f"Stack {stack!r} on the backend {backend} would encrypt its secrets with an empty "
        "passphrase (only the `local` stack may). Either:\n"
        "  - set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's "
        "passphrase, or\n"
        "  - use the stack's Cloud KMS key made by bootstrap/ (docs/delivery.md):\n"
        f"    pulumi stack change-secrets-provider --stack {stack} "
        f'"gcpkms://projects/PROJECT/locations/LOCATION/keyRings/pulumi/cryptoKeys/{stack}"'
    )


def main(argv: list[str]) -> int:
    stack = argv[1] if len(argv) > 1 else LAPTOP_STACK
    stack_path = ROOT / "stacks" / f"Pulumi.{stack}.yaml"
    stack_file = stack_path.read_text() if stack_path.exists() else ""
    problem = refusal(stack, os.environ, stack_file)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
