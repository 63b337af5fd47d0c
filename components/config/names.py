"""Naming rules of GCP and Kubernetes, as functions that return what is wrong (or None).

Each rule is the documented one for that kind of name; the messages say it in words.
"""

from __future__ import annotations

import ipaddress
import re

_LOWER_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_KEY = re.compile(r"[a-z][-_a-z0-9]*")
_LABEL_VALUE = re.compile(r"[-_a-z0-9]*")
_BUCKET = re.compile(r"[a-z0-9][-_.a-z0-9]*[a-z0-9]")
# Bucket names may not contain "google" or close misspellings of it.
_GOOGLE_LIKE = re.compile(r"g[o0][o0]g[l1][e3]")

# Namespaces that belong to Kubernetes or GKE itself.
SYSTEM_NAMESPACES = re.compile(r"^(default|kube-.*|gke-.*|gmp-.*)$")


def lower_name(name: str, what: str, max_length: int) -> str | None:
    """GCE-style names: a lowercase letter first, then letters, digits, hyphens; no trailing -."""
    if len(name) > max_length:
        return f"{what} {name!r} is {len(name)} characters; allowed: at most {max_length}"
    if not _LOWER_NAME.fullmatch(name):
        return (
            f"{what} {name!r} is not allowed; allowed: lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen"
        )
    return None


def kubernetes_name(name: str, what: str) -> str | None:
    if len(name) > 63 or not _DNS_LABEL.fullmatch(name):
        return (
            f"{what} {name!r} is not a DNS label; allowed: at most 63 lowercase letters, digits "
            "and hyphens, starting and ending with a letter or digit"
        )
    return None


def bucket_name(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return f"bucket name {name!r} is {len(name)} characters; allowed: 3 to 63"
    if not _BUCKET.fullmatch(name):
        return (
            f"bucket name {name!r} is not allowed; allowed: lowercase letters, digits, hyphens, "
            "underscores and dots, starting and ending with a letter or digit"
        )
    if name.startswith("goog") or _GOOGLE_LIKE.search(name):
        return f"bucket name {name!r} is reserved; allowed: a name without 'goog'/'google'"
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return None
    return f"bucket name {name!r} reads as an IP address; allowed: a name that does not"


def label(key: str, value: str) -> str | None:
    """GCP resource labels: keys and values up to 63 characters, lowercase."""
    if not (len(key) <= 63 and _LABEL_KEY.fullmatch(key)):
        return (
            f"label key {key!r} is not allowed; allowed: up to 63 lowercase letters, digits, "
            "hyphens and underscores, starting with a letter"
        )
    if not (len(value) <= 63 and _LABEL_VALUE.fullmatch(value)):
        return (
            f"label {key}={value!r} has a value that is not allowed; allowed: up to 63 "
            "lowercase letters, digits, hyphens and underscores"
        )
    return None


def system_namespace(name: str) -> str | None:
    if SYSTEM_NAMESPACES.match(name):
        return (
            f"namespace {name!r} belongs to Kubernetes or GKE; allowed: a namespace of our own "
            "(not default, kube-*, gke-* or gmp-*)"
        )
    return None
