"""Address allowlists as wide as the internet: one block or a union (0.0.0.0/1 + 128.0.0.0/1)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# More public addresses than a /8 (1/256 of the space) is no allowlist: it admits the world.
MAX_PUBLIC_SHARE = 1 / 256


def _parse(values: Iterable[str]) -> list[IPNetwork]:
    networks: list[IPNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            continue
    return networks


def public_share(values: Iterable[str]) -> float:
    """The share of the address space (per IP version, the larger) the blocks open to the
    public internet; private blocks do not count."""
    shares = []
    for version, bits in ((4, 32), (6, 128)):
        blocks = [n for n in _parse(values) if n.version == version]
        union = ipaddress.collapse_addresses(blocks)  # type: ignore[type-var]
        public: int = sum(int(n.num_addresses) for n in union if not n.is_private)
        shares.append(public / float(1 << bits))
    return max(shares)


def too_wide(values: Iterable[str]) -> str | None:
    """A message when the blocks together open more than a /8 of public addresses."""
    listed = [str(v) for v in values]
    share = public_share(listed)
    if share <= MAX_PUBLIC_SHARE:
        return None
    return f"{', '.join(listed)} opens {share:.1%} of the internet"
