"""The existing cluster's kubeconfig, checked before any resource: the file and its context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.config.section import Problem


def _contexts(text: str) -> list[str] | None:
    """The context names of a kubeconfig, or None if the text is not one."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("contexts") or [], list):
        return None
    return [c["name"] for c in data.get("contexts") or [] if isinstance(c, dict) and "name" in c]


def kubeconfig_problem(kubeconfig: str, context: str) -> Problem | None:
    path = Path(kubeconfig).expanduser()
    if not path.is_file():
        return Problem(
            "kubeconfig",
            kubeconfig,
            "no such file; allowed: the path of a readable kubeconfig file (kind 'existing' "
            "deploys into a cluster that kubeconfig reaches)",
        )
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return Problem("kubeconfig", kubeconfig, "cannot be read; allowed: a readable kubeconfig")
    contexts = _contexts(text)
    if contexts is None:
        return Problem("kubeconfig", kubeconfig, "is not a kubeconfig; allowed: a kubeconfig file")
    if context not in contexts:
        known = ", ".join(repr(c) for c in contexts) or "none"
        return Problem(
            "context", context, f"is not a context of {kubeconfig}; allowed: one of: {known}"
        )
    return None
