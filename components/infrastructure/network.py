"""The VPC that GKE and private-IP Cloud SQL share, plus the GCP APIs the platform needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.shared.base import Component

PODS_RANGE = "pods"
SERVICES_RANGE = "services"


@dataclass(frozen=True)
class NetworkArgs:
    project: str
    """The GCP project of the VPC (`gcp.project`)."""
    region: str
    """The region of the subnet and of its Cloud NAT (`gcp.region`)."""
    name: str
    """The VPC's and the subnet's name (`network.name`, plus `-<stack>` when created)."""
    subnet_cidr: str
    """The subnet's primary range, the nodes' (`network.subnet_cidr`); unused without `create`."""
    pods_cidr: str
    """The secondary range `pods`, for Pods (`network.pods_cidr`); unused without `create`."""
    services_cidr: str
    """The secondary range `services` (`network.services_cidr`); unused without `create`."""
    create: bool = True
    """Create the VPC, subnet and Cloud NAT (`network.create`); false: use the VPC and subnet
    called `name`, whose secondary ranges must be named `pods` and `services`."""


class Network(Component):
    """A custom-mode VPC with one VPC-native subnet (or references to existing ones)."""

    network_id: pulumi.Output[str]
    """The VPC's id."""
    subnetwork_id: pulumi.Output[str]
    """The subnet's id (nodes; pods and services use its secondary ranges)."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        self.pods_range_name = PODS_RANGE
        self.services_range_name = SERVICES_RANGE
        if args.create:
            self.network_id, self.subnetwork_id = self._create(name, args)
        else:
            self.network_id = pulumi.Output.from_input(
                f"projects/{args.project}/global/networks/{args.name}"
            )
            self.subnetwork_id = pulumi.Output.from_input(
                f"projects/{args.project}/regions/{args.region}/subnetworks/{args.name}"
            )
        self.register_declared_outputs()

    def _create(
        self, name: str, args: NetworkArgs
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        child = pulumi.ResourceOptions(parent=self)
        vpc = gcp.compute.Network(
            name,
            project=args.project,
            name=args.name,
            auto_create_subnetworks=False,
            opts=child,
        )
        subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            project=args.project,
            region=args.region,
            name=args.name,
            network=vpc.id,
            ip_cidr_range=args.subnet_cidr,
            # Nodes without public IPs still reach Google APIs (GCS, Cloud SQL Admin).
            private_ip_google_access=True,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=PODS_RANGE, ip_cidr_range=args.pods_cidr
                ),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES_RANGE, ip_cidr_range=args.services_cidr
                ),
            ],
            opts=child,
        )
        # Private nodes pull images and reach the internet through Cloud NAT only.
        router = gcp.compute.Router(
            f"{name}-router", project=args.project, region=args.region, network=vpc.id, opts=child
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            project=args.project,
            region=args.region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            opts=child,
        )
        return vpc.id, subnet.id


# Enabled once per project and never disabled by `destroy`: other workloads may rely on them.
REQUIRED_APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "sqladmin.googleapis.com",
    "servicenetworking.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
)


class ProjectServices(Component):
    """The GCP APIs this platform calls, enabled before anything that needs them."""

    enabled: pulumi.Output[list[str]]
    """The APIs this stack enabled."""

    def __init__(
        self,
        name: str,
        project: str,
        services: Sequence[str] = REQUIRED_APIS,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, opts)
        self.services = [
            gcp.projects.Service(
                f"{name}-{service.split('.', 1)[0]}",
                project=project,
                service=service,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for service in services
        ]
        self.enabled = pulumi.Output.all(*(s.service for s in self.services))
        self.register_declared_outputs()
