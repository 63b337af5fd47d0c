"""Which environment a stack is: by its name, or by the `environment` label the platform puts on
every GCP resource (from the stack's `environment` setting), so a prod stack by any name is
treated as prod."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

Props = Mapping[str, Any]

# prod, prd, production, live, alone or as a prefix or suffix (eu-prod, prod-eu), any case.
_PROD_WORD = r"(prod|prd|production|live)"
PROD_NAMES = re.compile(rf"^({_PROD_WORD}([-_.].*)?|.*[-_.]{_PROD_WORD})$", re.IGNORECASE)
LOCAL_NAMES = re.compile(r"^local([-_.].*)?$", re.IGNORECASE)
PROD_LABELS = frozenset({"prod", "prd", "production", "live"})
# Where resources carry their labels: GCS buckets, Cloud SQL, GKE, Kubernetes objects.
_LABEL_FIELDS = (("labels",), ("userLabels",), ("resourceLabels",), ("metadata", "labels"))


def stack_of(urn: str) -> str:
    """urn:pulumi:<stack>::<project>::<type>::<name>"""
    return urn.split(":", 2)[2].split("::", 1)[0] if urn.startswith("urn:pulumi:") else ""


def environment_label(props: Props) -> str | None:
    for path in _LABEL_FIELDS:
        node: Any = props
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and isinstance(node.get("environment"), str):
            return str(node["environment"]).lower()
    return None


def is_prod(urn: str, props: Props | None = None) -> bool:
    """One resource: its stack's name, or its own `environment` label."""
    return bool(PROD_NAMES.match(stack_of(urn))) or (
        props is not None and environment_label(props) in PROD_LABELS
    )


def is_local(urn: str, props: Props | None = None) -> bool:
    return bool(LOCAL_NAMES.match(stack_of(urn))) or (
        props is not None and environment_label(props) == "local"
    )


def stack_is_prod(resources: Iterable[tuple[str, Props]]) -> bool:
    """A stack (urn, inputs per resource) is prod if its name says so or any resource's label."""
    return any(is_prod(urn, props) for urn, props in resources)


def stack_is_local(resources: Iterable[tuple[str, Props]]) -> bool:
    pairs = list(resources)
    return not stack_is_prod(pairs) and any(is_local(urn, props) for urn, props in pairs)
