"""`make outdated`: every pin against the newest version its registry serves.

PyPI pins (pyproject.toml, the Makefile's pip tools, versions.py's `datasource=pypi`) are asked
with `pip index versions`; Go modules (tools/**/go.mod, the Makefile's Go tools) from the Go
module proxy. A registry that does not answer is reported as "unreachable", never an error.
Helm charts, images and actions are Renovate's (renovate.json): listed, not queried here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The line above a pin, and the pin: `NAME: Final = "..."`, `NAME := ...` or YAML `NAME: "..."`.
ANNOTATION = re.compile(
    r"#\s*renovate:\s*datasource=(?P<datasource>\S+)\s+depName=(?P<dep>\S+).*\n"
    r"\s*(?P<name>[A-Z0-9_]+)(?::\s*Final\s*=|\s*:?=|:)\s*\"?(?:[^\"\s]*:)?(?P<value>[^\"\s]+)\"?"
)
GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)\s*$", re.M)
TIMEOUT = 20
GO_FALLBACK = ("/usr/local/go/bin/go",)


@dataclass(frozen=True)
class Pin:
    where: str
    datasource: str  # pypi | go | helm | docker | ...
    name: str
    current: str


def pyproject_pins() -> Iterator[Pin]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    for requirement in dict.fromkeys(requirements):
        name, sep, version = re.sub(r"\[.*?\]", "", requirement).partition("==")
        if sep:
            yield Pin("pyproject.toml", "pypi", name.strip(), version.strip())


def annotated_pins(path: Path) -> Iterator[Pin]:
    for match in ANNOTATION.finditer(path.read_text()):
        yield Pin(str(path.relative_to(ROOT)), match["datasource"], match["dep"], match["value"])


def go_module_pins() -> Iterator[Pin]:
    for go_mod in sorted(ROOT.glob("tools/**/go.mod")):
        text = go_mod.read_text()
        for block in re.findall(r"^require \(\n(.*?)^\)", text, re.M | re.S) + re.findall(
            r"^require (\S+ \S+)$", text, re.M
        ):
            for line in block.splitlines():
                match = GO_REQUIRE.match(line)
                if match and "// indirect" not in line:
                    yield Pin(str(go_mod.relative_to(ROOT)), "go", match[1], match[2])


def newest_pypi(name: str) -> str:
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "index", "versions", name, "--disable-pip-version-check"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unreachable"
    match = re.match(rf"^{re.escape(name)} \(([^)]+)\)", result.stdout, re.I | re.M)
    return match.group(1) if result.returncode == 0 and match else "unreachable"


def go_binary() -> str | None:
    return shutil.which("go") or next((g for g in GO_FALLBACK if os.path.exists(g)), None)


def newest_go(module: str) -> str:
    """The newest tagged version the Go module proxy lists (`go list -m -versions`)."""
    go = go_binary()
    if go is None:
        return "unreachable (no go on PATH)"
    try:
        result = subprocess.run(
            [go, "list", "-m", "-versions", module],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd="/",
            env={**os.environ, "GOFLAGS": "-mod=mod"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unreachable"
    if result.returncode != 0:
        return "unreachable"
    releases = [v for v in result.stdout.split()[1:] if "-" not in v]  # no pre-releases
    return releases[-1] if releases else "no tagged release served"


def newest(pin: Pin) -> str:
    if pin.datasource == "pypi":
        return newest_pypi(pin.name)
    if pin.datasource == "go":
        return newest_go(pin.name)
    return f"not queried ({pin.datasource}: Renovate)"


def all_pins() -> list[Pin]:
    annotated = [
        ROOT / "components" / "shared" / "versions.py",
        ROOT / "Makefile",
        *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
    ]
    return [
        *pyproject_pins(),
        *(pin for path in annotated for pin in annotated_pins(path)),
        *go_module_pins(),
    ]


def status(current: str, latest: str) -> str:
    if latest.startswith(("unreachable", "not queried", "no tagged")):
        return ""
    return "current" if latest.lstrip("v") == current.lstrip("v") else "newer served"


def main() -> int:
    pins = all_pins()
    with ThreadPoolExecutor(max_workers=8) as pool:
        latest = list(pool.map(newest, pins))
    rows = [
        (p.where, p.name, p.current, n, status(p.current, n))
        for p, n in zip(pins, latest, strict=True)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        print("  ".join(cells), row[4])
    return 0


if __name__ == "__main__":
    sys.exit(main())
