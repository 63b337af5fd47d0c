"""A laptop's minikube profile after a reboot: `make start` / `make stop` (and `make up` starts
it first). minikube creates the profile when the stack's start command is created; a stopped
profile is brought back with its saved settings, so Pulumi sees the same cluster and nothing
is replaced.

  python -m infra.laptop start STACK
  python -m infra.laptop stop STACK
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from components.config import MinikubeClusterConfig, field_default
from components.config.section import PROJECT

STACKS = Path(__file__).resolve().parent.parent / "stacks"
# `minikube status` exits 0 when the profile runs and 85 when there is no such profile.
RUNNING, NO_PROFILE = 0, 85


def profile(stack: str, stacks: Path = STACKS) -> str | None:
    """The stack's minikube profile, or None when its cluster is not minikube."""
    path = stacks / f"Pulumi.{stack}.yaml"
    config: dict[str, Any] = (yaml.safe_load(path.read_text()) or {}).get("config", {})
    cluster = config.get(f"{PROJECT}:cluster") or {}
    if cluster.get("kind") != "minikube":
        return None
    environment = config.get(f"{PROJECT}:environment")
    return str(
        cluster.get("profile") or field_default(MinikubeClusterConfig, "profile", environment)
    )


def start(name: str) -> int:
    """Start a stopped profile; leave a running one, and a missing one for `pulumi up`."""
    status = subprocess.run(["minikube", "status", "-p", name], capture_output=True, text=True)
    if status.returncode in (RUNNING, NO_PROFILE):
        return 0
    print(f"minikube profile {name} is stopped: starting it with its saved settings")
    return subprocess.run(["minikube", "start", "-p", name]).returncode


def stop(name: str) -> int:
    return subprocess.run(["minikube", "stop", "-p", name]).returncode


def main(argv: list[str]) -> int:
    action, stack = argv[1], argv[2]
    name = profile(stack)
    if name is None:
        return 0  # not a minikube stack: nothing to start or stop
    return start(name) if action == "start" else stop(name)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
