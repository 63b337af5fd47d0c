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
    """The GCP project of the address (`gcp.project`), and of the record without `dns_project`."""
    region: str
    """The region the address is reserved in (`gcp.region`): the load balancer's."""
    name: str
    """The address's name in GCP (the platform's: `mlflow-ingress-<stack>`)."""
    host: str
    """The DNS name the A record is for (`mlflow.host`); unused without `managed_zone`."""
    managed_zone: str | None = None
    """The Cloud DNS zone that gets the A record (`dns.managed_zone`); None: no record."""
    dns_project: str | None = None
    """The zone's project (`dns.project`); None: `project`."""
    ttl: int = 300
    """The record's TTL in seconds (`dns.ttl`)."""
    labels: dict[str, str] = field(default_factory=dict)
    """GCP labels on the address (the platform's: app, environment and `gcp.labels`)."""


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
