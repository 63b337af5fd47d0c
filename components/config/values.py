"""Value types of the schema: each check says, in words, what is allowed."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field


def matcher(pattern: str, allowed: str) -> Callable[[str], str]:
    """A validator that accepts values matching `pattern` and otherwise names `allowed`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"allowed: {allowed}")
        return value

    return check


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError("allowed: an IPv4 CIDR block such as 10.0.0.0/16") from None
    return str(network)


def _pinned_image(value: str) -> str:
    name = value.rsplit("/", 1)[-1]
    if "@sha256:" in value:
        return value
    if ":" not in name or name.endswith(":latest"):
        raise ValueError("allowed: an image with an explicit version tag or digest (not :latest)")
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
GcpProject = Annotated[
    str,
    AfterValidator(
        matcher(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", "a GCP project id such as my-ml-project")
    ),
]
GcpRegion = Annotated[
    str, AfterValidator(matcher(r"[a-z]+-[a-z]+[0-9]+", "a GCP region such as europe-west1"))
]
DnsLabel = Annotated[
    str,
    AfterValidator(
        matcher(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a lowercase DNS label such as mlflow")
    ),
]
Hostname = Annotated[
    str,
    AfterValidator(
        matcher(
            r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?",
            "a lowercase DNS name such as mlflow.example.com",
        )
    ),
]
Quantity = Annotated[
    str,
    AfterValidator(
        matcher(r"[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?", "a Kubernetes quantity such as 500m or 2Gi")
    ),
]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
# Any value; `pulumi config set --path database.password_rotation 2` stores a number, so
# numbers count as their text.
PasswordRotation = Annotated[
    str,
    Field(
        min_length=1,
        coerce_numbers_to_str=True,
        description="Change to any new value to rotate the password.",
    ),
]
Version = Annotated[
    str, AfterValidator(matcher(r"[0-9]+\.[0-9]+\.[0-9]+", "a version like 3.17.2"))
]
