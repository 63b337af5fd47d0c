"""The `pulumi config set` commands the docs show, as the CLI gets them.

In code blocks (a line ending in a backslash goes on) and in inline code of the files
infra/docs_check.py reads; generated blocks hold prose, not examples, and a command that names no
key only names the command. `$(...)` and `<name>` get sample values; the stack flag is left out,
for the caller to name its own. tests/engine/test_engine_docs_examples.py runs each in the real
CLI (`make docs`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infra.docs_check import CODE_SPAN, block_names, block_pattern, lines_of

COMMAND = "pulumi config set"
# Flags of `pulumi config set` that take a value; the others are switches.
VALUED_FLAGS = frozenset({"-s", "--stack", "--config-file", "--type", "-C", "--cwd"})
STACK_FLAGS = frozenset({"-s", "--stack"})
SAMPLE_SUBSTITUTION = "123456789"
_SUBSTITUTION = re.compile(r"\$\([^)]*\)")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
_SEPARATORS = frozenset({"&&", "||", ";", "|"})


@dataclass(frozen=True)
class ConfigSetExample:
    """One command as a doc shows it, and its arguments as the CLI gets them: placeholders
    filled in, the stack flag left out (the caller names its own stack)."""

    file: Path
    line: int
    text: str
    args: tuple[str, ...]
    key: str
    value: str | None
    path: bool
    secret: bool


def _command_texts(text: str) -> Iterator[tuple[int, str]]:
    """(line, the command from `pulumi config set` on) in code blocks, where a line ending in a
    backslash goes on, and in inline code. Generated blocks hold prose, not examples."""
    generated = _generated_lines(text)
    pending: tuple[int, str] | None = None
    for line in lines_of(text):
        if line.number in generated:
            continue
        if line.in_code:
            start, joined = pending or (line.number, "")
            joined += line.text
            if joined.endswith("\\"):
                pending = (start, joined[:-1] + " ")
                continue
            pending = None
            if COMMAND in joined:
                yield start, joined[joined.index(COMMAND) :]
        else:
            for span in CODE_SPAN.finditer(line.text):
                if span.group(2).strip().startswith(COMMAND):
                    yield line.number, span.group(2).strip()


def _generated_lines(text: str) -> set[int]:
    numbers: set[int] = set()
    for name in block_names(text):
        found = block_pattern(name).search(text)
        if found:
            first = text.count("\n", 0, found.start()) + 1
            numbers.update(range(first, first + found.group(0).count("\n") + 1))
    return numbers


def _filled(command: str) -> list[str]:
    """The command's words after `pulumi config set`, with `$(...)` and `<name>` filled in."""
    command = _SUBSTITUTION.sub(SAMPLE_SUBSTITUTION, command)
    command = _PLACEHOLDER.sub(lambda m: f"sample-{m.group(1)}", command)
    words = shlex.split(command, comments=True)[len(COMMAND.split()) :]
    for i, word in enumerate(words):
        if word in _SEPARATORS:
            return words[:i]
    return words


def _parsed(words: list[str]) -> tuple[list[str], list[str], set[str]]:
    """(the words without the stack flag, the positional arguments, the switches) as the CLI
    parses them: after `--` everything is positional."""
    kept: list[str] = []
    positional: list[str] = []
    switches: set[str] = set()
    i, literal = 0, False
    while i < len(words):
        word = words[i]
        flag = word.split("=", 1)[0]
        if literal or not word.startswith("-") or word == "-":
            positional.append(word)
        elif word == "--":
            literal = True
        elif flag in STACK_FLAGS:
            i += 1 if "=" in word else 2
            continue
        elif flag in VALUED_FLAGS and "=" not in word:
            kept.extend(words[i : i + 2])
            i += 2
            continue
        else:
            switches.add(flag)
        kept.append(word)
        i += 1
    return kept, positional, switches


def config_set_examples(doc: Path) -> list[ConfigSetExample]:
    """Every command that names a key; `pulumi config set --path` alone names the command."""
    examples = []
    for number, command in _command_texts(doc.read_text()):
        args, positional, switches = _parsed(_filled(command))
        if not positional:
            continue
        examples.append(
            ConfigSetExample(
                file=doc,
                line=number,
                text=command,
                args=tuple(args),
                key=positional[0] if positional else "",
                value=positional[1] if len(positional) > 1 else None,
                path="--path" in switches,
                secret="--secret" in switches,
            )
        )
    return examples
