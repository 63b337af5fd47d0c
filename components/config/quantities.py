"""Kubernetes quantities and nginx sizes, parsed the way the API server and nginx read them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(
    r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE][-+]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)"
)
_NGINX_SIZE = re.compile(r"([0-9]+)([kKmMgG]?)")
_NGINX_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def parse_quantity(text: str) -> Decimal:
    """The value of a Kubernetes quantity (1.5Gi, 500m, 2G, 1e3); ValueError if it is none."""
    match = _QUANTITY.fullmatch(text.strip())
    if match is None:
        raise ValueError("not a quantity")
    number, exponent, suffix = match.groups()
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError("not a quantity") from None
    if exponent:
        return value * Decimal(10) ** int(exponent[1:])
    return value * _SUFFIXES[suffix or ""]


def _positive(text: str, example: str) -> Decimal:
    try:
        value = parse_quantity(text)
    except ValueError:
        raise ValueError(
            f"allowed: a Kubernetes quantity, a number with an optional suffix such as {example}"
        ) from None
    if value <= 0:
        raise ValueError(f"is not positive; allowed: a quantity above zero, such as {example}")
    return value


def cpu_quantity(text: str) -> str:
    _positive(text, "250m or 1")
    return text


def memory_quantity(text: str) -> str:
    """Memory and storage: bytes, never milli-units (1500m would be 1.5 bytes)."""
    value = _positive(text, "768Mi, 5Gi or 5G")
    if text.strip().endswith("m") or value != value.to_integral_value():
        raise ValueError(
            "is a fraction of a byte; allowed: a whole number of bytes with a suffix such as "
            "768Mi or 5G (m means milli here, not mega)"
        )
    return text


def nginx_size(text: str) -> str:
    if nginx_bytes(text) == 0:
        raise ValueError("is zero (no limit at all); allowed: a size such as 5g or 500m")
    return text


def nginx_bytes(text: str) -> int:
    """nginx's size syntax: a number with k, m or g (either case), in bytes."""
    match = _NGINX_SIZE.fullmatch(text)
    if match is None:
        raise ValueError(
            "allowed: an nginx size, a whole number with k, m or g (either case), such as 5g"
        )
    return int(match.group(1)) * _NGINX_UNITS[match.group(2).lower()]
