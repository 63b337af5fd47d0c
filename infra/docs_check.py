"""The docs stay true: links resolve, generated blocks are current (what `make docs` checks).

`python -m infra.docs_check` reads README.md, CONTRIBUTING.md, CHANGELOG.md and docs/*.md:

- every relative link names a file or directory of the repository, and every `#anchor` a
  heading of its target (GitHub's heading slugs) or an `<a id>`; links to other sites are
  counted, never fetched (the check runs offline);
- every generated block (`<!-- generated: NAME -->` ... `<!-- end generated: NAME -->`) of
  `registry()` equals its generator's output; a stale one names the make target that rewrites
  it. `python -m infra.docs_check --write [NAME ...]` rewrites them.

infra/docs_examples.py lists the `pulumi config set` commands of the same files, which
tests/engine/test_engine_docs_examples.py runs in the real CLI.
"""

from __future__ import annotations

import importlib
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL_DOCS = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")


def documents(root: Path = ROOT) -> list[Path]:
    """The checked files that exist: the top-level ones, then docs/*.md."""
    top = [root / name for name in TOP_LEVEL_DOCS if (root / name).is_file()]
    return top + sorted((root / "docs").glob("*.md"))


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str

    def shown(self, root: Path = ROOT) -> str:
        return f"{self.file.relative_to(root)}:{self.line}: {self.message}"


# --- reading markdown ---------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    in_code: bool  # inside a fenced code block (the fence lines included)


def lines_of(text: str) -> list[Line]:
    lines: list[Line] = []
    fence = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        opened = _FENCE.match(raw)
        if fence:
            lines.append(Line(number, raw, True))
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
        elif opened:
            fence = opened.group(1)
            lines.append(Line(number, raw, True))
        else:
            lines.append(Line(number, raw, False))
    return lines


CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def without_code_spans(text: str) -> str:
    """The prose of a line: inline code is not a link."""
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)


# --- anchors: GitHub's heading slugs ------------------------------------------------------

_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.I)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text as shown, lower case, without punctuation other
    than hyphens and underscores, each space a hyphen."""
    text = _INLINE_LINK.sub(r"\1", heading).replace("`", "").lower()
    kept = (
        ch
        for ch in text
        if ch in " -" or unicodedata.category(ch)[0] in "LMN" or unicodedata.category(ch) == "Pc"
    )
    return "".join(kept).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's slug (a repeated one gets -1, -2, ... as on GitHub) and `<a id>`."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in lines_of(text):
        if line.in_code:
            continue
        found.update(_HTML_ANCHOR.findall(line.text))
        heading = _HEADING.match(line.text)
        if heading is None:
            continue
        base = slug(heading.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


# --- links --------------------------------------------------------------------------------

_LINK_TARGET = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def links(text: str) -> Iterator[tuple[int, str]]:
    """(line, target) of every link and image outside code: inline, reference and autolinks."""
    for line in lines_of(text):
        if line.in_code:
            continue
        prose = without_code_spans(line.text)
        for pattern in (_LINK_TARGET, _REFERENCE, _AUTOLINK):
            for target in pattern.findall(prose):
                yield line.number, target


@dataclass
class LinkReport:
    problems: list[Problem] = field(default_factory=list)
    local: int = 0
    external: int = 0


def _target_problem(doc: Path, target: str, root: Path) -> str | None:
    """Why a relative link (`path`, `path#anchor` or `#anchor`) does not resolve, or None."""
    path_part, _, anchor = target.partition("#")
    if path_part.startswith("/"):
        resolved = (root / unquote(path_part).lstrip("/")).resolve()
    else:
        resolved = (doc.parent / unquote(path_part)).resolve() if path_part else doc
    if not resolved.is_relative_to(root.resolve()):
        return f"link to {target}: outside the repository"
    if not resolved.exists():
        return f"link to {target}: no such file"
    markdown = resolved.suffix == ".md" and resolved.is_file()
    if anchor and markdown and unquote(anchor).lower() not in anchors(resolved.read_text()):
        return f"link to {target}: no heading with the anchor #{anchor} in {resolved.name}"
    return None


def check_links(docs: list[Path], root: Path = ROOT) -> LinkReport:
    report = LinkReport()
    for doc in docs:
        for number, target in links(doc.read_text()):
            if not target:
                report.problems.append(Problem(doc, number, "a link with an empty target"))
            elif _SCHEME.match(target):
                report.external += 1
            else:
                report.local += 1
                problem = _target_problem(doc, target, root)
                if problem:
                    report.problems.append(Problem(doc, number, problem))
    return report


# --- generated blocks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    """A block of `file` (relative to the root) that `generate` writes; `target` rewrites it."""

    file: str
    name: str
    generate: Callable[[], str]
    target: str


def registry() -> tuple[Generated, ...]:
    """Every generated block of the docs. The generators read the schema (and more), so they
    are imported when the check runs, not with this module."""
    from infra import component_docs, config_docs

    # The resource graph runs the program under Pulumi's mocks with the graph reader, which
    # live with the tests (tests/harness.py, tests/bench/graph.py): imported by name so the
    # program's type check does not take in the test suite.
    picture = importlib.import_module("tests.bench.picture")

    return (
        Generated("docs/configuration.md", config_docs.BLOCK, config_docs.table, "config-table"),
        Generated(
            "docs/architecture.md",
            "component-tables",
            component_docs.component_tables,
            "architecture-docs",
        ),
        Generated("docs/architecture.md", "resource-graph", picture.picture, "architecture-docs"),
        Generated("CONTRIBUTING.md", "layout", component_docs.layout, "architecture-docs"),
    )


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- generated: {name} -->", f"<!-- end generated: {name} -->"


def block_pattern(name: str) -> re.Pattern[str]:
    """The block named `name`: its start marker line, the body, its end marker line."""
    start, end = (re.escape(m) for m in _markers(name))
    return re.compile(rf"^({start}\n)(.*?)^({end})$", re.M | re.S)


def body(content: str) -> str:
    """What stands between the markers: nothing, or the content on lines of its own."""
    return content.rstrip("\n") + "\n" if content.strip() else ""


def with_block(text: str, name: str, content: str) -> str:
    """`text` with the body of block `name` replaced by `content`."""
    pattern = block_pattern(name)
    if not pattern.search(text):
        start, end = _markers(name)
        raise ValueError(f"no block {name!r}: expected the lines {start!r} and {end!r}")
    return pattern.sub(lambda m: m.group(1) + body(content) + m.group(3), text, count=1)


_ANY_START = re.compile(r"^<!-- generated: (\S+) -->$", re.M)


def block_names(text: str) -> list[str]:
    return _ANY_START.findall(text)


def check_block(entry: Generated, root: Path = ROOT) -> Problem | None:
    path = root / entry.file
    if not path.is_file():
        return Problem(path, 1, f"missing; it should hold the generated block {entry.name!r}")
    text = path.read_text()
    found = block_pattern(entry.name).search(text)
    if found is None:
        start, end = _markers(entry.name)
        return Problem(path, 1, f"no generated block {entry.name!r} (lines {start} and {end})")
    if found.group(2) != body(entry.generate()):
        line = text.count("\n", 0, found.start()) + 1
        return Problem(
            path,
            line,
            f"generated block {entry.name!r} is out of date: run `make {entry.target}`",
        )
    return None


def unregistered_blocks(
    docs: list[Path], entries: tuple[Generated, ...], root: Path = ROOT
) -> list[str]:
    """`file: name` of each generated block no generator writes (reported, not an error: a
    block may be added before its generator)."""
    known = {(e.file, e.name) for e in entries}
    return [
        f"{doc.relative_to(root)}: {name}"
        for doc in docs
        for name in block_names(doc.read_text())
        if (doc.relative_to(root).as_posix(), name) not in known
    ]


# --- the command --------------------------------------------------------------------------


def write(names: list[str], root: Path = ROOT) -> list[str]:
    """Rewrite the named generated blocks (all without names); returns what it wrote."""
    written = []
    for entry in registry():
        if names and entry.name not in names:
            continue
        path = root / entry.file
        path.write_text(with_block(path.read_text(), entry.name, entry.generate()))
        written.append(f"{entry.file}: {entry.name}")
    return written


def check(root: Path = ROOT) -> tuple[list[Problem], str]:
    """Every problem, and a one-line summary of what was checked."""
    docs = documents(root)
    report = check_links(docs, root)
    entries = registry()
    blocks = [check_block(entry, root) for entry in entries]
    problems = report.problems + [b for b in blocks if b is not None]
    unregistered = unregistered_blocks(docs, entries, root)
    summary = (
        f"docs: {len(docs)} files, {report.local} relative links checked, "
        f"{report.external} external links (not fetched), {len(entries)} generated blocks"
        + (f"; without a generator: {', '.join(unregistered)}" if unregistered else "")
    )
    return problems, summary


def main(argv: list[str]) -> int:
    if argv[1:2] == ["--write"]:
        for written in write(argv[2:]):
            print(f"rewrote {written}")
        return 0
    problems, summary = check()
    for problem in problems:
        print(problem.shown(), file=sys.stderr)
    print(summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
