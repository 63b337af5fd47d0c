"""A stable address for the ingress: a reserved regional IP (so it survives the controller's
Service) and, with a Cloud DNS zone, an A record for mlflow.host pointing at it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from components.shared.base import Component


@dataclass(frozen=True)
class StaticAddressArgs:
    project: str
    region: str
    name: str
    host: str
    managed_zone: str | None = None
    dns_project: str | None = None
    ttl: int = 300
    labels: dict[str, str] = field(default_factory=dict)


class StaticAddress(Component):
    """The reserved external IP of the ingress controller's LoadBalancer (and its DNS name)."""

    ip: pulumi.Output[str]
    """The reserved address; `pulumi destroy` releases it."""

    def __init__(
        self, name: str, args: StaticAddressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        address = gcp.compute.Address(
            name,
            project=args.project,
            region=args.region,
            name=args.name,
            address_type="EXTERNAL",
            network_tier="PREMIUM",
            labels=args.labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ip = address.address
        if args.managed_zone is not None:
            gcp.dns.RecordSet(
                f"{name}-record",
                project=args.dns_project or args.project,
                managed_zone=args.managed_zone,
                name=f"{args.host}.",
                type="A",
                ttl=args.ttl,
                rrdatas=[address.address],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_declared_outputs()
