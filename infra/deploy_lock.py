"""The deploy lock (requirements/deploy.txt): what `pulumi up` needs, pinned with hashes.

`make lock` compiles it from pyproject.toml (the runtime dependencies and the `policy` extra)
with uv, whose header records the command (Renovate re-runs it when it bumps a pin). `check`
fails, offline and before anything is installed, when pyproject.toml asks for a package the lock
lacks or for a version the lock's pin does not satisfy.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "deploy.txt"
EXTRAS = ("policy",)
COMMAND = "uv pip compile pyproject.toml --extra policy --generate-hashes"
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*?)\s*(;.*)?$")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def runtime_requirements(pyproject: str) -> list[str]:
    """The requirements a deploy installs: the project's dependencies and the `policy` extra."""
    project = tomllib.loads(pyproject)["project"]
    optional = project.get("optional-dependencies", {})
    return [*project["dependencies"], *(req for extra in EXTRAS for req in optional[extra])]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def release(version: str) -> tuple[int, ...]:
    """The numeric release segment (3.259.0 -> (3, 259, 0)); enough for the pins used here."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:4])


def satisfies(version: str, specifiers: str) -> bool:
    have = release(version)
    for spec in filter(None, (s.strip() for s in specifiers.split(","))):
        op, wanted = re.match(r"(==|!=|>=|<=|~=|>|<)\s*(.+)", spec).groups()  # type: ignore[union-attr]
        want = release(wanted)
        width = max(len(have), len(want))
        same = have + (0,) * (width - len(have)) == want + (0,) * (width - len(want))
        ok = {
            "==": same,
            "!=": not same,
            ">=": have >= want,
            "<=": have <= want,
            ">": have > want,
            "<": have < want,
            "~=": have >= want and have[: len(want) - 1] == want[:-1],
        }[op]
        if not ok:
            return False
    return True


def locked_versions(lock: str) -> dict[str, str]:
    return {normalized(m.group(1)): m.group(2) for m in PIN.finditer(lock)}


def staleness(lock: str, pyproject: str) -> list[str]:
    """Why the lock does not serve pyproject.toml (empty when it does)."""
    if COMMAND not in lock:
        return [f"{LOCK.relative_to(ROOT)} was not compiled by `make lock` ({COMMAND} ...)"]
    locked = locked_versions(lock)
    problems = []
    for requirement in runtime_requirements(pyproject):
        match = REQUIREMENT.match(requirement)
        if match is None:
            problems.append(f"{requirement!r}: not a requirement this check reads")
            continue
        name, _, specifiers, _ = match.groups()
        version = locked.get(normalized(name))
        if version is None:
            problems.append(f"{requirement}: not in the lock")
        elif not satisfies(version, specifiers):
            problems.append(f"{requirement}: the lock pins {version}")
    return problems


def main() -> int:
    problems = staleness(
        LOCK.read_text() if LOCK.exists() else "", (ROOT / "pyproject.toml").read_text()
    )
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        print(
            f"{LOCK.relative_to(ROOT)} is stale; run `make lock` and commit it:\n{listed}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
