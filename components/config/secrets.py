"""Secrets in a stack file: which settings are secrets, and what looks like one in plain text.

A secret must reach the program as a Pulumi secret (`pulumi config set --secret`), which the
stack file stores encrypted as `secure: ...`. The engine tells the program which top-level keys
hold one (`mlflow-platform:auth` once any value inside it is `secure:`); values the program is
handed directly may carry the stack file's own `{secure: ...}` marker, which names the exact key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.config.section import key

# Settings whose value is a secret: dotted paths, `*` for every key of a mapping.
SECRET_SETTINGS = ("auth.oidc.client_secret", "mlflow.extra_secret_env.*")
# What in an environment variable's name says its value is a credential: a word of the name
# (OPENAI_API_KEY, GITHUB_TOKEN), or text within one (DBPASSWORD, AWS_SECRET_ACCESS_KEY).
_SECRET_PARTS = {
    "KEY", "KEYS", "APIKEY", "TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD", "PASSWORDS",
    "PASSWD", "PASS", "PWD", "PASSPHRASE", "CREDENTIAL", "CREDENTIALS", "CREDS", "PAT", "AUTH",
    "DSN", "SALT", "HMAC",
}  # fmt: skip
_SECRET_TEXT = re.compile(r"SECRET|PASSWORD|PASSWD|CREDENTIAL|APIKEY|ACCESSKEY|CONN(ECTION)?_?STR")
# user:password@ in a URL (a database or broker address with its password).
_URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/@\s:]+:[^/@\s]+@", re.IGNORECASE)
SECURE_MARKER = "secure"


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it carries a credential (API_KEY, ...)."""
    upper = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()
    return bool(_SECRET_TEXT.search(upper)) or bool(_SECRET_PARTS & set(upper.split("_")))


def holds_password(value: str) -> bool:
    return bool(_URL_WITH_PASSWORD.search(value))


@dataclass
class SecretMarks:
    """Which config keys reached the program as secrets.

    The engine names secret keys per top-level key only: `mlflow-platform:mlflow` is secret as
    soon as one value inside it is. `plain` narrows that down with the stack file itself, where
    each value is either `secure:` or not."""

    top_level: frozenset[str] = frozenset()  # engine's secret keys, without the namespace
    paths: set[str] = field(default_factory=set)  # dotted paths marked secure
    plain: frozenset[str] = frozenset()  # dotted paths the stack file holds in clear text

    def is_secret(self, path: str) -> bool:
        if path in self.paths:
            return True
        return path.split(".", 1)[0] in self.top_level and path not in self.plain


def _is_marker(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {SECURE_MARKER}


def unwrap_markers(value: Any, path: str, marks: SecretMarks) -> Any:
    """`value` with each `{secure: v}` replaced by `v`, recording its path in `marks`."""
    if _is_marker(value):
        marks.paths.add(path)
        return value[SECURE_MARKER]
    if isinstance(value, Mapping):
        return {k: unwrap_markers(v, f"{path}.{k}", marks) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_markers(v, f"{path}.{i}", marks) for i, v in enumerate(value)]
    return value


def plain_paths(value: Any, path: str = "") -> set[str]:
    """The dotted paths of every value in a stack file's mapping that is not `secure:`."""
    if _is_marker(value):
        return set()
    if isinstance(value, Mapping):
        return {
            p for k, v in value.items() for p in plain_paths(v, f"{path}.{k}" if path else str(k))
        }
    if isinstance(value, list):
        return {p for i, v in enumerate(value) for p in plain_paths(v, f"{path}.{i}")}
    return {path}


def _paths(raw: Mapping[str, Any], pattern: str) -> Iterator[str]:
    """The dotted paths in `raw` that a SECRET_SETTINGS pattern names and the stack sets."""
    node: Any = raw
    parts = pattern.split(".")
    for i, part in enumerate(parts):
        if part == "*":
            prefix = ".".join(parts[:i])
            yield from (f"{prefix}.{name}" for name in (node if isinstance(node, Mapping) else {}))
            return
        if not isinstance(node, Mapping) or part not in node:
            return
        node = node[part]
    if node is not None:
        yield pattern


def clear_text_problems(raw: Mapping[str, Any], marks: SecretMarks) -> list[str]:
    """A line for each secret setting the stack file holds in clear text (the value not shown)."""
    return [
        f"{key(path)} = (a value in clear text): the stack file would hold this secret readable "
        "by anyone with the repository; allowed: a Pulumi secret, set with "
        f"pulumi config set --secret --path '{path}' <value> (stored as secure: ...)"
        for pattern in SECRET_SETTINGS
        for path in _paths(raw, pattern)
        if not marks.is_secret(path)
    ]
