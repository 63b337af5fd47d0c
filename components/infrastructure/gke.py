"""A VPC-native, Workload-Identity-enabled GKE cluster (Autopilot or Standard) with private nodes
and a closed control plane, and the kubeconfig that reaches it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_gcp as gcp

from components.config import (
    AuthorizedNetwork,
    GkeClusterConfig,
    GkeNodePoolConfig,
    default_of,
    derived,
)
from components.infrastructure.cluster import KubernetesCluster, cluster_provider


@dataclass(frozen=True)
class GkeNodePoolArgs:
    machine_type: str = default_of(GkeNodePoolConfig, "machine_type")
    """The nodes' Compute Engine machine type (`cluster.node_pool.machine_type`)."""
    min_nodes: int = default_of(GkeNodePoolConfig, "min_nodes")
    """Autoscaling minimum per zone, also the initial size (`cluster.node_pool.min_nodes`)."""
    max_nodes: int = default_of(GkeNodePoolConfig, "max_nodes")
    """Autoscaling maximum per zone (`cluster.node_pool.max_nodes`)."""
    disk_size_gb: int = default_of(GkeNodePoolConfig, "disk_size_gb")
    """Each node's boot disk, in GB (`cluster.node_pool.disk_size_gb`)."""
    spot: bool = default_of(GkeNodePoolConfig, "spot")
    """Spot VMs: cheaper, and preemptible (`cluster.node_pool.spot`)."""


@dataclass(frozen=True)
class GkeClusterArgs:
    project: str
    """The GCP project of the cluster (`gcp.project`); it names the Workload Identity pool."""
    region: str
    """The region of this regional cluster and of its node pool (`gcp.region`)."""
    network: pulumi.Input[str]
    """The VPC's id (Network's `network_id`), where the webhook firewall rule goes too."""
    subnetwork: pulumi.Input[str]
    """The subnet's id (Network's `subnetwork_id`): the nodes' addresses."""
    pods_range_name: pulumi.Input[str]
    """The name of the subnet's secondary range for Pods (Network's: `pods`)."""
    services_range_name: pulumi.Input[str]
    """The name of the subnet's secondary range for Services (Network's: `services`)."""
    kubernetes_version: str
    """The minimum control-plane version (`cluster.kubernetes_version`); the channel upgrades it."""
    mode: Literal["autopilot", "standard"] = default_of(GkeClusterConfig, "mode")
    """autopilot (Google runs the nodes) or standard (`node_pool`): `cluster.mode`."""
    release_channel: str = default_of(GkeClusterConfig, "release_channel")
    """The GKE release channel: RAPID, REGULAR, STABLE or EXTENDED (`cluster.release_channel`)."""
    # Without a stack's word, the safe (prod) choices.
    private_nodes: bool = default_of(GkeClusterConfig, "private_nodes", "prod")
    """Nodes without public IPs (`cluster.private_nodes`); adds the webhook firewall rule."""
    master_ipv4_cidr: str = default_of(GkeClusterConfig, "master_ipv4_cidr")
    """The control plane's /28 with private nodes (`cluster.master_ipv4_cidr`); else unused."""
    control_plane: Literal["dns", "authorized-networks", "private"] = default_of(
        GkeClusterConfig, "control_plane"
    )
    """How Pulumi and kubectl reach the API: dns, authorized-networks or private
    (`cluster.control_plane`)."""
    master_authorized_networks: list[AuthorizedNetwork] = field(default_factory=list)
    """Who may reach the API's IP (`cluster.master_authorized_networks`); unused with dns."""
    deletion_protection: bool = default_of(GkeClusterConfig, "deletion_protection", "prod")
    """The provider refuses to delete the cluster (`cluster.deletion_protection`)."""
    node_pool: GkeNodePoolArgs = field(default_factory=GkeNodePoolArgs)
    """The node pool of standard mode (`cluster.node_pool`); autopilot has none."""
    labels: dict[str, str] = field(default_factory=dict)
    """GCP labels on the cluster, also the standard pool's Kubernetes node labels (the
    platform's: app, environment and `gcp.labels`)."""


# ingress-nginx's admission webhook (controller.admissionWebhooks.port in its chart).
WEBHOOK_PORT = "8443"


# Node service account roles: the documented minimum for logging, monitoring and image pulls.
NODE_SERVICE_ACCOUNT_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)


def private_cluster_config(
    args: GkeClusterArgs,
) -> gcp.container.ClusterPrivateClusterConfigArgs | None:
    if not args.private_nodes:
        return None
    return gcp.container.ClusterPrivateClusterConfigArgs(
        enable_private_nodes=True,
        # dns: no IP endpoint at all (control_plane_endpoints_config), public or private.
        enable_private_endpoint=None
        if args.control_plane == "dns"
        else args.control_plane == "private",
        master_ipv4_cidr_block=args.master_ipv4_cidr,
    )


def control_plane_endpoints_config(
    args: GkeClusterArgs,
) -> gcp.container.ClusterControlPlaneEndpointsConfigArgs:
    """dns: only Google's DNS endpoint, where IAM checks every request before Kubernetes sees
    it (no address to scan); otherwise the IP endpoint, and the DNS one closed."""
    dns = args.control_plane == "dns"
    return gcp.container.ClusterControlPlaneEndpointsConfigArgs(
        dns_endpoint_config=gcp.container.ClusterControlPlaneEndpointsConfigDnsEndpointConfigArgs(
            allow_external_traffic=dns
        ),
        ip_endpoints_config=gcp.container.ClusterControlPlaneEndpointsConfigIpEndpointsConfigArgs(
            enabled=not dns
        ),
    )


def authorized_networks_config(
    args: GkeClusterArgs,
) -> gcp.container.ClusterMasterAuthorizedNetworksConfigArgs | None:
    """The IP endpoint admits only these ranges (Google's own public ranges not included)."""
    if args.control_plane == "dns":
        return None
    return gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
        cidr_blocks=[
            gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                display_name=n.name, cidr_block=n.cidr
            )
            for n in args.master_authorized_networks
        ],
        gcp_public_cidrs_access_enabled=False,
    )


def workload_identity_config(
    args: GkeClusterArgs,
) -> gcp.container.ClusterWorkloadIdentityConfigArgs | None:
    if args.mode == "autopilot":
        return None  # Autopilot always has Workload Identity on.
    return gcp.container.ClusterWorkloadIdentityConfigArgs(
        workload_pool=f"{args.project}.svc.id.goog"
    )


def node_config(
    pool: GkeNodePoolArgs, service_account: pulumi.Input[str], labels: dict[str, str]
) -> gcp.container.NodePoolNodeConfigArgs:
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=pool.machine_type,
        disk_size_gb=pool.disk_size_gb,
        spot=pool.spot,
        service_account=service_account,
        oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
            mode="GKE_METADATA"
        ),
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        labels=labels,
    )


def _dns_endpoint(config: gcp.container.outputs.ClusterControlPlaneEndpointsConfig) -> str:
    dns = config.dns_endpoint_config
    return (dns.endpoint if dns else None) or ""


class GkeCluster(KubernetesCluster):
    """A VPC-native, Workload-Identity-enabled GKE cluster (Autopilot or Standard)."""

    token_module = "cluster"  # it lived in components/cluster.py until v0.2

    cluster_name: pulumi.Output[str]
    """The GKE cluster's name."""

    def __init__(
        self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts, former_types=["mlflow-platform:cluster:Gke"])
        self.kind = "gke"
        self.cluster = self._cluster(name, args)
        if args.mode != "autopilot":
            self.node_pool = self._node_pool(name, args)
        if args.private_nodes:
            self.webhook_firewall = self._admission_webhook_firewall(name, args)
        self.cluster_name = self.cluster.name
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name, self._api_server(args), self._api_ca_certificate(args)
            ).apply(lambda v: gke_kubeconfig(args.project, args.region, v[0], v[1], v[2]))
        )
        self.provider = cluster_provider(name, self.kubeconfig, self)
        self.register_declared_outputs()

    def _api_server(self, args: GkeClusterArgs) -> pulumi.Output[str]:
        if args.control_plane == "dns":
            return self.cluster.control_plane_endpoints_config.apply(_dns_endpoint)
        return self.cluster.endpoint

    def _api_ca_certificate(self, args: GkeClusterArgs) -> pulumi.Output[str | None]:
        """The DNS endpoint serves a publicly trusted certificate; the IP one the cluster CA's."""
        if args.control_plane == "dns":
            return pulumi.Output.from_input(None)
        return self.cluster.master_auth.cluster_ca_certificate

    def _cluster(self, name: str, args: GkeClusterArgs) -> gcp.container.Cluster:
        autopilot = args.mode == "autopilot"
        return gcp.container.Cluster(
            name,
            project=args.project,
            location=args.region,
            network=args.network,
            subnetwork=args.subnetwork,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=args.pods_range_name,
                services_secondary_range_name=args.services_range_name,
            ),
            enable_autopilot=autopilot or None,
            # Standard: the default pool cannot be configured well, so replace it with our own.
            remove_default_node_pool=None if autopilot else True,
            initial_node_count=None if autopilot else 1,
            min_master_version=args.kubernetes_version,
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=args.release_channel),
            workload_identity_config=workload_identity_config(args),
            private_cluster_config=private_cluster_config(args),
            control_plane_endpoints_config=control_plane_endpoints_config(args),
            master_authorized_networks_config=authorized_networks_config(args),
            # Standard: Dataplane V2 (Cilium) enforces NetworkPolicy; without it the policies
            # are inert. Autopilot always runs it.
            datapath_provider=None if autopilot else "ADVANCED_DATAPATH",
            deletion_protection=args.deletion_protection,
            resource_labels=args.labels,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _admission_webhook_firewall(self, name: str, args: GkeClusterArgs) -> gcp.compute.Firewall:
        """On private clusters the control plane reaches nodes on 443 and 10250 only, but the
        ingress-nginx admission webhook listens on 8443 (its deploy docs ask for this rule):
        without it every Ingress write times out. No target tags: Autopilot's nodes cannot be
        tagged up front, and the source is the control plane's own /28."""
        return gcp.compute.Firewall(
            f"{name}-webhooks",
            project=args.project,
            network=args.network,
            direction="INGRESS",
            source_ranges=[args.master_ipv4_cidr],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=[WEBHOOK_PORT])],
            description="GKE control plane to the ingress-nginx admission webhook",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _node_pool(self, name: str, args: GkeClusterArgs) -> gcp.container.NodePool:
        child = pulumi.ResourceOptions(parent=self)
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            project=args.project,
            account_id=derived.node_account_id(name),
            display_name=f"GKE nodes of {name}",
            opts=child,
        )
        for role in NODE_SERVICE_ACCOUNT_ROLES:
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.rsplit('/', 1)[-1]}",
                project=args.project,
                role=role,
                member=self.node_service_account.email.apply(lambda e: f"serviceAccount:{e}"),
                opts=child,
            )
        pool = args.node_pool
        return gcp.container.NodePool(
            f"{name}-pool",
            project=args.project,
            location=args.region,
            cluster=self.cluster.name,
            initial_node_count=pool.min_nodes,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                min_node_count=pool.min_nodes, max_node_count=pool.max_nodes
            ),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=node_config(pool, self.node_service_account.email, args.labels),
            opts=child,
        )


def gke_kubeconfig(
    project: str, region: str, cluster_name: str, endpoint: str, ca_certificate: str | None
) -> str:
    """A kubeconfig that authenticates through gke-gcloud-auth-plugin (no static credentials).
    Without a CA the server's certificate is checked against the system's trusted roots."""
    context = f"gke_{project}_{region}_{cluster_name}"
    authority = [f"    certificate-authority-data: {ca_certificate}"] if ca_certificate else []
    return "\n".join(
        [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- cluster:",
            *authority,
            f"    server: https://{endpoint}",
            f"  name: {context}",
            "contexts:",
            "- context:",
            f"    cluster: {context}",
            f"    user: {context}",
            f"  name: {context}",
            f"current-context: {context}",
            "users:",
            f"- name: {context}",
            "  user:",
            "    exec:",
            "      apiVersion: client.authentication.k8s.io/v1beta1",
            "      command: gke-gcloud-auth-plugin",
            "      installHint: Install gke-gcloud-auth-plugin (gcloud components install "
            "gke-gcloud-auth-plugin)",
            "      provideClusterInfo: true",
            "",
        ]
    )
