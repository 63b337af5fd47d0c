"""The deploy lock (requirements/deploy.txt): what `pulumi up` needs, pinned with hashes.

`make lock` compiles it from pyproject.toml (the runtime dependencies and the `policy` extra)
and stamps it with a digest of exactly those requirements; `check` fails when pyproject.toml
changed them since, so a stale lock is caught offline, before anything is installed.
"""

from __future__ import annotations

import hashlib
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "deploy.txt"
STAMP = "# pyproject runtime + policy requirements sha256: "
NOTE = "# Compiled by `make lock` (uv pip compile --generate-hashes); do not edit by hand.\n"
EXTRAS = ("policy",)


def runtime_requirements(pyproject: str) -> list[str]:
    """The requirements a deploy installs: the project's dependencies and the `policy` extra."""
    project = tomllib.loads(pyproject)["project"]
    optional = project.get("optional-dependencies", {})
    return [*project["dependencies"], *(req for extra in EXTRAS for req in optional[extra])]


def digest(requirements: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()


def stamp(lock: str, pyproject: str) -> str:
    """`lock` with its first line naming the digest of the requirements it was compiled from."""
    body = "".join(
        line for line in lock.splitlines(keepends=True) if not line.startswith((STAMP, NOTE))
    )
    return f"{STAMP}{digest(runtime_requirements(pyproject))}\n{NOTE}{body}"


def staleness(lock: str, pyproject: str) -> str | None:
    """Why the lock no longer matches pyproject.toml, or None when it does."""
    first = lock.splitlines()[0] if lock else ""
    if not first.startswith(STAMP):
        return f"{LOCK.relative_to(ROOT)} has no digest line: run `make lock`"
    if first.removeprefix(STAMP) != digest(runtime_requirements(pyproject)):
        return (
            f"{LOCK.relative_to(ROOT)} is stale: pyproject.toml's runtime or policy "
            "requirements changed since it was compiled; run `make lock` and commit it"
        )
    return None


def main(argv: list[str]) -> int:
    pyproject = (ROOT / "pyproject.toml").read_text()
    if argv[1:] == ["stamp"]:
        LOCK.write_text(stamp(LOCK.read_text(), pyproject))
        return 0
    problem = staleness(LOCK.read_text() if LOCK.exists() else "", pyproject)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
