"""Google Cloud: the GKE control plane and its network policy, IAM members, firewall rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.networks import too_wide

Props = Mapping[str, Any]

GKE_CLUSTER = "gcp:container/cluster:Cluster"
FIREWALL = "gcp:compute/firewall:Firewall"
IAM_TYPES = frozenset(
    {
        "gcp:projects/iAMMember:IAMMember",
        "gcp:projects/iAMBinding:IAMBinding",
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:storage/bucketIAMBinding:BucketIAMBinding",
        "gcp:serviceaccount/iAMMember:IAMMember",
        "gcp:serviceaccount/iAMBinding:IAMBinding",
    }
)
PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor"})


def _get(props: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props


def _authorized_blocks(props: Props) -> list[str]:
    blocks = _get(props, "masterAuthorizedNetworksConfig", "cidrBlocks") or []
    return [str(b.get("cidrBlock", "")) for b in blocks if isinstance(b, Mapping)]


def gke_authorized_networks_are_narrow(props: Props, protected: bool) -> list[str]:
    problems = []
    wide = too_wide(_authorized_blocks(props))
    if wide:
        problems.append(f"GKE control plane authorized networks: {wide}")
    if _get(props, "masterAuthorizedNetworksConfig", "gcpPublicCidrsAccessEnabled") is True:
        problems.append("GKE control plane admits every Google Cloud public address")
    return problems


def gke_control_plane_is_closed(props: Props, protected: bool) -> list[str]:
    """Reachable only from authorized networks, or on a private or DNS-based endpoint only."""
    private = _get(props, "privateClusterConfig", "enablePrivateEndpoint") is True
    ip_endpoints = _get(props, "controlPlaneEndpointsConfig", "ipEndpointsConfig", "enabled")
    if private or ip_endpoints is False or _authorized_blocks(props):
        return []
    return [
        "GKE control plane is reachable from the internet: set authorized networks, or use "
        "a private or DNS-based endpoint only"
    ]


def gke_enforces_network_policy(props: Props, protected: bool) -> list[str]:
    """Autopilot always runs Dataplane V2; a Standard cluster enforces NetworkPolicies only with
    it (or the legacy Calico add-on)."""
    if props.get("enableAutopilot") is True:
        return []
    if props.get("datapathProvider") == "ADVANCED_DATAPATH":
        return []
    if _get(props, "networkPolicy", "enabled") is True:
        return []
    return [
        "GKE Standard cluster enforces no NetworkPolicy: set datapath_provider ADVANCED_DATAPATH"
    ]


def iam_is_not_public_or_primitive(props: Props, protected: bool) -> list[str]:
    members = [props.get("member"), *(props.get("members") or [])]
    problems = [f"IAM grants {props.get('role')!r} to {m}" for m in members if m in PUBLIC_MEMBERS]
    if props.get("role") in PRIMITIVE_ROLES:
        problems.append(f"IAM grants the primitive role {props.get('role')!r}: grant a narrow role")
    return problems


def firewall_is_not_open_to_the_internet(props: Props, protected: bool) -> list[str]:
    if (props.get("direction") or "INGRESS") != "INGRESS" or not props.get("allows"):
        return []
    ranges = props.get("sourceRanges") or []
    if not ranges and not (props.get("sourceTags") or props.get("sourceServiceAccounts")):
        return ["firewall rule has no source: Google Cloud then admits 0.0.0.0/0"]
    wide = too_wide(ranges)
    return [f"firewall rule admits {wide}"] if wide else []
