"""Where the platform runs: the GCP project, its VPC and the Kubernetes cluster."""

from __future__ import annotations

import ipaddress
from itertools import combinations
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field

from components.config.kubeconfig import kubeconfig_problem
from components.config.section import (
    AuthorizedNetwork,
    EnvDefaults,
    Problem,
    Section,
    internet_wide_problems,
)
from components.config.values import (
    Cidr,
    Count,
    DnsLabel,
    Flag,
    GcpProject,
    GcpRegion,
    GkeKubernetesVersion,
    KubernetesMinor,
    MinikubeKubernetesVersion,
    NonBlank,
    matcher,
)
from components.shared import versions

ServiceAccountEmail = Annotated[
    str,
    AfterValidator(
        matcher(
            r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com",
            "a service account e-mail such as ci-preview-prod@my-ci.iam.gserviceaccount.com",
        )
    ),
]

# The smallest ranges a VPC-native GKE cluster works with: a node subnet for a few dozen nodes,
# a pod range for several nodes of 110 pods (a /24 each), a Service range of 256 addresses.
MIN_RANGES = {"subnet_cidr": 24, "pods_cidr": 21, "services_cidr": 24}


class GcpConfig(Section):
    project: GcpProject = Field(description="GCP project id.")
    region: GcpRegion = Field(description="Region for the cluster, database and bucket.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Labels on every GCP resource."
    )


class NetworkConfig(Section):
    """The VPC for GKE and private-IP Cloud SQL."""

    create: Flag = Field(True, description="Create the VPC and subnet; false uses `name` as is.")
    name: DnsLabel = Field("mlflow", description="VPC (and subnet) name.")
    subnet_cidr: Cidr = Field("10.10.0.0/20", description="Primary range of the subnet (nodes).")
    pods_cidr: Cidr = Field("10.16.0.0/14", description="Secondary range for Pods.")
    services_cidr: Cidr = Field("10.20.0.0/20", description="Secondary range for Services.")

    def ranges(self) -> dict[str, ipaddress.IPv4Network]:
        return {name: ipaddress.IPv4Network(getattr(self, name)) for name in MIN_RANGES}

    def problems(self) -> list[Problem]:
        problems = [
            Problem(
                name,
                str(network),
                f"a /{network.prefixlen} is too small for a cluster; allowed: /{largest} "
                "or larger (a smaller prefix number)",
            )
            for name, network in self.ranges().items()
            if network.prefixlen > (largest := MIN_RANGES[name])
        ]
        problems += [
            Problem(b, str(range_b), f"overlaps {a} {range_a}; allowed: disjoint ranges")
            for (a, range_a), (b, range_b) in combinations(self.ranges().items(), 2)
            if range_a.overlaps(range_b)
        ]
        return problems


class MinikubeClusterConfig(Section):
    kind: Literal["minikube"]
    profile: DnsLabel = Field(description="minikube profile (and kubeconfig context) name.")
    kubernetes_version: MinikubeKubernetesVersion = Field(
        versions.MINIKUBE_KUBERNETES_VERSION, description="Kubernetes version minikube starts."
    )
    cpus: Count = Field(2, ge=2, le=64, description="CPUs for the minikube node.")
    memory_mb: Count = Field(4096, ge=2048, le=262144, description="Memory (MiB) for the node.")
    driver: Literal["docker", "podman", "kvm2", "qemu2", "hyperkit", "virtualbox", "vfkit"] = Field(
        "docker", description="minikube driver."
    )
    addons: list[DnsLabel] = Field(
        default_factory=list,
        description="minikube addons, e.g. gcp-auth to reach GCS and Cloud SQL.",
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "profile": {
            "local": "mlflow-local",
            "dev": "mlflow-dev",
            "staging": "mlflow-staging",
            "prod": "mlflow-prod",
        },
    }


class GkeNodePoolConfig(Section):
    machine_type: str = Field("e2-standard-4", description="Node machine type (Standard mode).")
    min_nodes: Count = Field(1, ge=0, le=100, description="Autoscaling minimum per zone.")
    max_nodes: Count = Field(3, ge=1, le=100, description="Autoscaling maximum per zone.")
    disk_size_gb: Count = Field(50, ge=20, le=2000, description="Boot disk size.")
    spot: Flag = Field(False, description="Use Spot VMs (cheap, preemptible).")

    def problems(self) -> list[Problem]:
        if self.min_nodes > self.max_nodes:
            return [
                Problem(
                    "min_nodes",
                    self.min_nodes,
                    f"above max_nodes {self.max_nodes}; allowed: min_nodes <= max_nodes",
                )
            ]
        return []


ControlPlaneAccess = Literal["dns", "authorized-networks", "private"]


class GkeClusterConfig(Section):
    kind: Literal["gke"]
    name: DnsLabel = Field("mlflow", description="Cluster name prefix.")
    mode: Literal["autopilot", "standard"] = Field("autopilot", description="GKE mode.")
    kubernetes_version: GkeKubernetesVersion = Field(
        versions.KUBERNETES_VERSION,
        description="Minimum master version (release channel upgrades from there).",
    )
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = Field(
        "REGULAR", description="GKE release channel."
    )
    private_nodes: Flag = Field(description="Nodes get no public IPs.")
    master_ipv4_cidr: Cidr = Field(
        "172.16.0.32/28", description="/28 for the control plane when nodes are private."
    )
    control_plane: ControlPlaneAccess = Field(
        "dns",
        description="How Pulumi and kubectl reach the control plane: dns (Google's DNS "
        "endpoint, each request checked by IAM; no IP endpoint), authorized-networks (its "
        "public IP, from master_authorized_networks only) or private (its VPC IP only: run "
        "Pulumi inside the VPC).",
    )
    master_authorized_networks: list[AuthorizedNetwork] = Field(
        default_factory=list,
        description="control_plane authorized-networks or private: who may reach its IP.",
    )
    deletion_protection: Flag = Field(description="Refuse to delete the cluster.")
    node_pool: GkeNodePoolConfig = Field(
        default_factory=dict,
        validate_default=True,
        description="Own node pool (Standard mode only).",
    )
    preview_identity: ServiceAccountEmail | None = Field(
        None,
        description="The CI account that previews this stack (bootstrap output "
        "service_accounts): it may read the cluster and dry-run writes, never persist one.",
    )

    env_defaults: ClassVar[EnvDefaults] = {
        "private_nodes": {"staging": True, "prod": True, "dev": False, "local": False},
        "deletion_protection": {"prod": True, "staging": False, "dev": False, "local": False},
    }

    def problems(self) -> list[Problem]:
        problems = []
        master = ipaddress.IPv4Network(self.master_ipv4_cidr)
        if self.private_nodes and master.prefixlen != 28:
            problems.append(
                Problem(
                    "master_ipv4_cidr",
                    self.master_ipv4_cidr,
                    "private nodes need a /28 for the control plane; allowed: a /28 block",
                )
            )
        if self.mode == "autopilot" and self.was_set("node_pool"):
            problems.append(
                Problem(
                    "node_pool",
                    self.node_pool.model_dump(exclude_unset=True),
                    "Autopilot manages its own nodes and ignores a node pool; allowed: "
                    "mode 'standard' with a node_pool, or no node_pool",
                )
            )
        problems += self._control_plane_problems()
        if not self.private_nodes and self.was_set("master_ipv4_cidr"):
            problems.append(
                Problem(
                    "master_ipv4_cidr",
                    self.master_ipv4_cidr,
                    "is used only with private_nodes=true; allowed: leave it out",
                )
            )
        return problems

    def _control_plane_problems(self) -> list[Problem]:
        """The control plane's API is the cluster's master key: never open to the internet."""
        networks = [n.cidr for n in self.master_authorized_networks]
        if self.control_plane == "authorized-networks" and not networks:
            return [
                Problem(
                    "master_authorized_networks",
                    [],
                    "control_plane 'authorized-networks' with none would let the whole internet "
                    "reach the API; allowed: your office or VPN ranges, or control_plane 'dns'",
                )
            ]
        if self.control_plane == "dns" and networks:
            return [
                Problem(
                    "master_authorized_networks",
                    networks,
                    "control_plane 'dns' has no IP endpoint to restrict; allowed: leave them "
                    "out, or control_plane 'authorized-networks'",
                )
            ]
        if self.control_plane == "private" and not self.private_nodes:
            return [
                Problem(
                    "control_plane",
                    "private",
                    "a private endpoint needs private nodes; allowed: private_nodes true, or "
                    "control_plane 'dns'",
                )
            ]
        return internet_wide_problems("master_authorized_networks", networks)


class ExistingClusterConfig(Section):
    kind: Literal["existing"]
    kubeconfig: NonBlank = Field("~/.kube/config", description="Path to the kubeconfig file.")
    context: NonBlank = Field(description="kubeconfig context to deploy into.")
    kubernetes_version: KubernetesMinor = Field(
        versions.KUBERNETES_VERSION,
        description="Kubernetes minor of that cluster (for manifest validation).",
    )

    def problems(self) -> list[Problem]:
        problem = kubeconfig_problem(self.kubeconfig, self.context)
        return [problem] if problem else []


ClusterConfig = Annotated[
    MinikubeClusterConfig | GkeClusterConfig | ExistingClusterConfig, Field(discriminator="kind")
]
