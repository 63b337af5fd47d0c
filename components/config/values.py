"""Value types of the schema: each check says, in words, what is allowed."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from components.config.quantities import cpu_quantity, memory_quantity, nginx_size


def matcher(pattern: str, allowed: str) -> Callable[[str], str]:
    """A validator that accepts values matching `pattern` and otherwise names `allowed`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"allowed: {allowed}")
        return value

    return check


def _cidr(value: str) -> str:
    if "/" not in value:
        raise ValueError(
            "has no prefix length; allowed: an IPv4 CIDR block with its prefix, such as "
            f"{value}/32 for one address or 10.0.0.0/16"
        )
    try:
        return str(ipaddress.IPv4Network(value, strict=True))
    except ValueError as exc:
        if "host bits" in str(exc):
            network = ipaddress.IPv4Network(value, strict=False)
            raise ValueError(
                f"has host bits set; allowed: the network address of the block, {network}"
            ) from None
        raise ValueError("allowed: an IPv4 CIDR block such as 10.0.0.0/16") from None


def _pinned_image(value: str) -> str:
    name = value.rsplit("/", 1)[-1]
    if "@sha256:" in value:
        return value
    if ":" not in name or name.endswith(":latest"):
        raise ValueError("allowed: an image with an explicit version tag or digest (not :latest)")
    return value


def _not_a_bool(value: Any) -> Any:
    """pydantic reads true as 1; a number field must get a number."""
    if isinstance(value, bool):
        raise ValueError("is a boolean; allowed: a whole number")
    return value


def _a_bool(value: Any) -> Any:
    """pydantic reads 1, 'yes' or 'on' as true; a switch must get true or false."""
    if isinstance(value, bool) or value in ("true", "false"):
        return value
    raise ValueError("allowed: true or false")


_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_DNS_LABEL_WORDS = (
    "1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit"
)


def _hostname(value: str) -> str:
    if "://" in value or "/" in value:
        raise ValueError("allowed: a bare DNS name such as mlflow.example.com (no scheme or path)")
    if ":" in value:
        raise ValueError("allowed: a DNS name without a port, such as mlflow.example.com")
    if "*" in value:
        raise ValueError("allowed: one DNS name, not a wildcard")
    if re.fullmatch(r"[0-9.]+", value):
        raise ValueError("is an IP address; allowed: a DNS name such as mlflow.example.com")
    if len(value) > 253 or not re.fullmatch(rf"({_DNS_LABEL}\.)*{_DNS_LABEL}", value):
        raise ValueError(
            "allowed: a DNS name of lowercase letters, digits, hyphens and dots, each part "
            "1 to 63 characters, such as mlflow.example.com"
        )
    return value


def _dns_subdomain(value: str) -> str:
    if len(value) > 253 or not re.fullmatch(rf"({_DNS_LABEL}\.)*{_DNS_LABEL}", value):
        raise ValueError(
            "allowed: a Kubernetes object name: lowercase letters, digits, hyphens and dots, "
            "at most 253 characters, such as mlflow-tls"
        )
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty; allowed: a non-empty text")
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
Count = Annotated[int, BeforeValidator(_not_a_bool)]
Flag = Annotated[bool, BeforeValidator(_a_bool)]
NonBlank = Annotated[str, AfterValidator(_not_blank)]
GcpProject = Annotated[
    str,
    AfterValidator(
        matcher(
            r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
            "a GCP project id: 6 to 30 lowercase letters, digits and hyphens, starting with a "
            "letter and not ending with a hyphen, such as my-ml-project",
        )
    ),
]
GcpRegion = Annotated[
    str, AfterValidator(matcher(r"[a-z]+-[a-z]+[0-9]+", "a GCP region such as europe-west1"))
]
DnsLabel = Annotated[
    str, AfterValidator(matcher(_DNS_LABEL, f"{_DNS_LABEL_WORDS}, such as mlflow"))
]
DnsSubdomain = Annotated[str, AfterValidator(_dns_subdomain)]
Hostname = Annotated[str, AfterValidator(_hostname)]
CpuQuantity = Annotated[str, BeforeValidator(lambda v: str(v)), AfterValidator(cpu_quantity)]
MemoryQuantity = Annotated[str, BeforeValidator(lambda v: str(v)), AfterValidator(memory_quantity)]
NginxSize = Annotated[str, AfterValidator(nginx_size)]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
CronSchedule = Annotated[
    str,
    AfterValidator(
        matcher(
            r"[0-9*/,-]+( [0-9*/,A-Za-z-]+){4}",
            "a cron schedule of five fields (minute hour day month weekday), such as 17 3 * * *",
        )
    ),
]
GcAge = Annotated[
    str,
    AfterValidator(
        matcher(
            r"(?=.)([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?",
            "an age in days, hours, minutes and seconds, such as 30d or 1d12h",
        )
    ),
]
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
