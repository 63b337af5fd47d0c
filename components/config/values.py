"""Value types of the schema: each check says, in words, what is allowed."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from components.config.cron import ALLOWED as CRON_ALLOWED
from components.config.cron import CronError, check_schedule
from components.config.quantities import cpu_quantity, memory_quantity, nginx_size
from components.config.regions import BUCKET_LOCATIONS_WORDS, GCP_REGIONS, is_bucket_location


def matcher(pattern: str, allowed: str) -> Callable[[str], str]:
    """A validator that accepts values matching `pattern` and otherwise names `allowed`."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"allowed: {allowed}")
        return value

    return check


def _cidr(value: str) -> str:
    if ":" in value:
        every = " (every IPv6 address)" if value.strip() in ("::/0", "::0/0") else ""
        raise ValueError(
            f"is an IPv6 block{every}; allowed: an IPv4 CIDR block such as 203.0.113.0/24"
        )
    if "/" not in value:
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError("allowed: an IPv4 CIDR block such as 10.0.0.0/16") from None
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


def _schedule(value: str) -> str:
    try:
        return check_schedule(value)
    except CronError as error:
        raise ValueError(f"{error}; allowed: {CRON_ALLOWED}") from None


def _region(value: str) -> str:
    if value not in GCP_REGIONS:
        raise ValueError(
            "is not a GCP region; allowed: a region such as europe-west1 or us-central1 "
            "(gcloud compute regions list)"
        )
    return value


def _bucket_location(value: str) -> str:
    if not is_bucket_location(value):
        raise ValueError(f"is not a Cloud Storage location; allowed: {BUCKET_LOCATIONS_WORDS}")
    return value


def _env_value(value: Any) -> Any:
    """`pulumi config set --path` stores 123 as a number and true as a boolean: take their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
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
GcpRegion = Annotated[str, AfterValidator(_region)]
BucketLocation = Annotated[str, AfterValidator(_bucket_location)]
EnvValue = Annotated[str, BeforeValidator(_env_value)]
MinikubeKubernetesVersion = Annotated[
    str, AfterValidator(matcher(r"v1\.[0-9]+\.[0-9]+", "a Kubernetes version such as v1.35.0"))
]
GkeKubernetesVersion = Annotated[
    str,
    AfterValidator(
        matcher(
            r"1\.[0-9]+(\.[0-9]+(-gke\.[0-9]+)?)?",
            "a GKE version such as 1.35, 1.35.1 or 1.35.1-gke.1234 (no leading v)",
        )
    ),
]
KubernetesMinor = Annotated[
    str, AfterValidator(matcher(r"1\.[0-9]+", "a Kubernetes minor version such as 1.35"))
]
HourStart = Annotated[
    str,
    AfterValidator(
        matcher(r"([01][0-9]|2[0-3]):00", "a whole hour from 00:00 to 23:00 (UTC), such as 03:00")
    ),
]
CloudSqlTier = Annotated[
    str,
    AfterValidator(
        matcher(
            r"db-(f1-micro|g1-small|custom-[0-9]+-[0-9]+|perf-optimized-N-[0-9]+)",
            "db-f1-micro, db-g1-small, db-custom-<CPUs>-<MiB> such as db-custom-2-7680, or "
            "db-perf-optimized-N-<CPUs>",
        )
    ),
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
CronSchedule = Annotated[str, AfterValidator(_schedule)]
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
